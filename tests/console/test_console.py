"""The analysts' console served by Airflow's API server (the plugin at /erzl), as the fund's
analysts use it: signed in on Airflow's login page in a browser, or with a bearer token.

- nothing is served without a valid credential, and a viewer may read but not decide;
- the figures of the runs index and of a run's page are those of `erzl records export` and
  `erzl register export`; run and sender pages carry their charts;
- a held record is accepted by two analysts (maker-checker) in the console, another is resolved
  from the command line, and the register and the console agree on both;
- a person's page says why they are in the register and where each change came from;
- no personal value of the input is in any served page, written report, Data Docs page, static
  export or the server's log — for the demo and for a second data set.

The deployments and the browser are the session's (tests/console/conftest.py).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter, deque
from datetime import date
from html import unescape
from urllib.parse import quote, unquote, urljoin, urlparse

import lxml.html
import pytest

from tests.console.privacy import personal_values

pytestmark = pytest.mark.airflow

OUTCOMES = ("accepted", "rejected", "review", "duplicate", "not_applicable")
FIGURES = ("received", *OUTCOMES, "enrolled")


def parse(text: str):
    return lxml.html.fromstring(text)


def q(value: str) -> str:
    return quote(value, safe="")


def by_css(element, selector: str):
    from selenium.webdriver.common.by import By

    return element.find_elements(By.CSS_SELECTOR, selector)


def wait_for_new_page(browser, old_html) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser.driver, 60).until(ec.staleness_of(old_html))
    WebDriverWait(browser.driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def sign_in(browser, deployment, user: str) -> None:
    if browser.user != user or browser.deployment is not deployment:
        browser.login(deployment, user)


def run_ids(reports: dict, prefix: str) -> str:
    return next(run for run in sorted(reports) if run.startswith(prefix))


def expected_figures(report: dict, records: list[dict], persons: list[dict]) -> dict[str, int]:
    """A run's figures from the exports alone: its files (the run's own report names them),
    their records by outcome (`erzl records export`), and the persons of `erzl register
    export` whose policy this run issued — an accepted birth record's ЕНП, or a worker whose
    СНИЛС is a record of the run's reports — from the run's processing date."""
    names = {f["file_name"] for f in report["files"]}
    mine = [r for r in records if r["file"] in names]
    counts = Counter(r["status"] for r in mine)
    enps = {r["enp"] for r in mine if r["status"] == "accepted" and r["enp"]}
    keys = {r["record_key"] for r in mine if r["record_key"]}
    enrolled = {
        p["enp"]
        for p in persons
        if p["enp"]
        and p["policy"]
        and p["policy"]["valid_from"] == report["as_of"]
        and (p["enp"] in enps or p["snils"] in keys)
    }
    return {
        "files": len(report["files"]),
        "received": len(mine),
        **{o: counts.get(o, 0) for o in OUTCOMES},
        "enrolled": len(enrolled),
    }


def record_of(records: list[dict], file_name: str, seq: int) -> dict:
    """The ``seq``-th record of a file in `erzl records export` (ordered by file and seq)."""
    mine = [r for r in records if r["file"] == file_name]
    assert len(mine) >= seq, (file_name, seq, len(mine))
    return mine[seq - 1]


# --- ids of the demo, as an analyst finds them ------------------------------------------------


@pytest.fixture(scope="module")
def ids(demo) -> dict[str, str]:
    """Real ids of the demo, read as analyst1 (with a bearer token) from the console itself."""
    reports = demo.run_reports()
    births_run = run_ids(reports, "zags_births_ingest")
    with demo.client("analyst1") as client:
        run_page = parse(client.get(f"/erzl/runs/{q(births_run)}").text)
        files = {
            row.xpath("string(td[1]//code)"): row.get("data-file-id")
            for row in run_page.xpath("//table[@class='files']//tr[@data-file-id]")
        }
        senders = parse(client.get("/erzl/senders").text).xpath("//tr/@data-sender")
        codes = parse(client.get("/erzl/rules").text).xpath("//tr/@data-code")
        docs = run_page.xpath("//a[starts-with(@href, '/erzl/data-docs/')]/@href")
        enps = run_page.xpath("//tr/@data-enp")
    assert files and senders and codes and docs and enps, "the demo's pages list nothing"
    first = files["ROGDINF_demo_0001.xml"]
    return {
        "run": births_run,
        "file": first,
        "file_name": "ROGDINF_demo_0001.xml",
        "sender": senders[0],
        "code": "Z007" if "Z007" in codes else codes[0],
        "enp": enps[0],
        "data_docs": docs[0],
        "key": f"{first}:7",  # the demo's record with an unmapped status code (Z007)
    }


def console_routes(ids: dict[str, str]) -> list[str]:
    return [
        "/erzl/",
        f"/erzl/runs/{q(ids['run'])}",
        f"/erzl/files/{ids['file']}",
        "/erzl/senders",
        f"/erzl/senders/{q(ids['sender'])}",
        "/erzl/rules",
        f"/erzl/rules/{ids['code']}",
        "/erzl/review",
        f"/erzl/persons?enp={ids['enp']}",
        f"/erzl/persons/{ids['enp']}",
        ids["data_docs"],
    ]


def forged_token() -> str:
    """A well-formed Airflow token for analyst1, signed with a key that is not the server's."""
    import jwt

    now = int(time.time())
    claims = {
        "sub": "analyst1", "role": "user", "teams": [], "aud": "apache-airflow",
        "jti": uuid.uuid4().hex, "iat": now, "nbf": now, "exp": now + 3600,
    }  # fmt: skip
    return jwt.encode(claims, uuid.uuid4().hex * 2, algorithm="HS512", headers={"kid": "not-used"})


# --- who may see what -------------------------------------------------------------------------


def test_nothing_is_served_without_a_valid_credential(demo, ids):
    routes = console_routes(ids)
    data = {ids["run"], ids["enp"], ids["file_name"], ids["sender"], *demo.run_reports()}
    refusals = {
        "no credential": ({}, {}, 401),
        "garbage bearer token": ({"Authorization": "Bearer garbage"}, {}, 403),
        "forged bearer token": ({"Authorization": f"Bearer {forged_token()}"}, {}, 403),
        "garbage _token cookie": ({}, {"_token": "garbage"}, 403),
    }
    wrong: list[str] = []
    with demo.client("analyst1") as analyst, demo.client() as anonymous:
        for path in routes:  # the ids are real: an analyst gets each page
            answer = analyst.get(path, follow_redirects=True)
            assert answer.status_code == 200, f"GET {path} as analyst1: {answer.status_code}"
        form = {"action": "accept", "note": "no", "csrf": "no"}
        for what, (headers, cookies, status) in refusals.items():
            anonymous.cookies.clear()
            for name, value in cookies.items():
                anonymous.cookies.set(name, value)
            answers = [("GET", p, anonymous.get(p, headers=headers)) for p in routes]
            path = f"/erzl/review/{q(ids['key'])}"
            answers.append(("POST", path, anonymous.post(path, data=form, headers=headers)))
            for method, path, answer in answers:
                if answer.status_code != status:
                    wrong.append(f"{method} {path} with {what}: {answer.status_code}, "
                                 f"expected {status}")  # fmt: skip
                # the refusal's page holds none of the console's data (it may name the
                # path asked for, in its sign-in link)
                asked = unquote(path)
                shown = [d for d in data if d in answer.text and d not in asked]
                markers = [m for m in ("data-count=", "data-run-id=", "data-enp=", 'class="chart"')
                           if m in answer.text]  # fmt: skip
                if shown or markers:
                    wrong.append(f"{method} {path} with {what} shows {shown + markers}")
    assert not wrong, "\n".join(wrong)


def test_a_viewer_reads_the_console_but_may_not_decide(demo, ids):
    from pipelines.console.app import Caller, form_token

    token = demo.token("viewer1")
    csrf = form_token(Caller(name="viewer1", credential=token))
    with demo.client(token=token) as viewer:
        for path in ("/erzl/", f"/erzl/runs/{q(ids['run'])}", f"/erzl/persons/{ids['enp']}"):
            assert viewer.get(path).status_code == 200, path
        answer = viewer.post(
            f"/erzl/review/{q(ids['key'])}",
            data={"action": "accept", "note": "a viewer tries", "csrf": csrf},
        )
    assert answer.status_code == 403, answer.text[:500]
    assert "not allowed" in answer.text


# --- the pages an analyst reads ---------------------------------------------------------------


def test_the_runs_index_and_the_run_pages_count_what_the_exports_say(demo, browser):
    reports = demo.run_reports()
    records, persons = demo.records(), demo.persons()
    expected = {run: expected_figures(report, records, persons) for run, report in reports.items()}
    assert len(expected) >= 3, sorted(expected)  # births, РСВ, the extra births file

    sign_in(browser, demo, "analyst1")
    assert browser.driver.get_cookie("_token"), "signed in, but no _token cookie"
    browser.open("/erzl/")
    assert browser.one("header .who").text == "analyst1"
    browser.shot("01-runs-index")
    rows = {
        tr.get_attribute("data-run-id"): {
            td.get_attribute("data-count"): int(td.text) for td in by_css(tr, "td[data-count]")
        }
        for tr in browser.css("tr[data-run-id]")
    }
    mismatches = []
    for run, want in expected.items():
        assert run in rows, f"run {run} is not on the runs index"
        got = {k: rows[run].get(k) for k in FIGURES}
        if got != {k: want[k] for k in FIGURES}:
            mismatches.append(f"/erzl/ row {run}: served {got}, exports say {want}")

    for run, want in expected.items():
        browser.open(f"/erzl/runs/{q(run)}")
        cards = {
            card.get_attribute("data-count"): int(card.text)
            for card in browser.css("#summary b[data-count]")
        }
        got = {k: cards.get(k) for k in ("files", *FIGURES)}
        if got != want:
            mismatches.append(f"/erzl/runs/{q(run)} #summary: served {got}, exports say {want}")
        bars = browser.css("svg.chart g.bar rect[data-series][data-value]")
        assert bars, f"/erzl/runs/{q(run)}: no chart bar"
        if want["files"] <= 60:  # the chart has a bar per file, up to 60: its sums are the run's
            sums = Counter()
            for rect in bars:
                sums[rect.get_attribute("data-series")] += int(rect.get_attribute("data-value"))
            charted = {o: sums.get(o, 0) for o in OUTCOMES}
            assert charted == {o: want[o] for o in OUTCOMES}, (run, charted, want)
        browser.shot(f"02-run-{run.split('__')[0]}")
    assert not mismatches, "\n".join(mismatches)


def test_a_sender_page_charts_and_counts_its_files(demo, browser):
    records = demo.records()
    by_file: dict[str, Counter] = {}
    for record in records:
        by_file.setdefault(record["file"], Counter())[record["status"]] += 1
    sign_in(browser, demo, "analyst1")
    browser.open("/erzl/senders")
    link = browser.one("tr[data-sender] td a")  # the sender with the most records first
    sender = browser.one("tr[data-sender]").get_attribute("data-sender")
    old = browser.one("html")
    link.click()
    wait_for_new_page(browser, old)
    assert urlparse(browser.driver.current_url).path == f"/erzl/senders/{q(sender)}"
    charts = browser.css("svg.chart")
    assert charts, f"sender {sender}: no chart"
    rows = browser.css("table.files tr[data-file-id]")
    assert rows
    received = 0
    for row in rows:
        name = by_css(row, "td code")[0].text
        counts = {
            td.get_attribute("data-count"): int(td.text) for td in by_css(row, "td[data-count]")
        }
        want = by_file.get(name, Counter())
        exported = {"received": sum(want.values()), **{o: want.get(o, 0) for o in OUTCOMES}}
        assert counts == exported, (name, counts, exported)
        received += counts["received"]
    browser.shot("03-sender")
    # each chart (records per month received, per reporting quarter) adds up to the records
    sums = {}
    for chart in charts:
        bars = by_css(chart, "g.bar rect[data-value]")
        assert bars, f"sender {sender}: a chart without bars"
        sums[chart.get_attribute("aria-label")] = sum(
            int(b.get_attribute("data-value")) for b in bars
        )
    # per month received: every record; per reporting quarter: the records of the reports in
    # force (a correction replaces the report before it for its quarter)
    in_force = _records_in_force(demo, sender)
    expected = {
        "Records by outcome, per month received": received,
        "Records of the reports in force, per reporting quarter": in_force,
    }
    assert sums == {k: v for k, v in expected.items() if k in sums}, (
        f"{browser.driver.current_url}: expected {expected}, charted {sums}"
    )
    assert len(sums) == 2 and in_force <= received


def _records_in_force(demo, sender: str) -> int:
    from sqlalchemy import func, select

    from pipelines.register import db
    from pipelines.register.models import ContributionReport, ReceivedFile, ReceivedRecord

    with db.session_scope(demo.settings) as session:
        return session.scalar(
            select(func.count())
            .select_from(ContributionReport)
            .join(ReceivedFile, ReceivedFile.id == ContributionReport.file_id)
            .join(ReceivedRecord, ReceivedRecord.file_id == ReceivedFile.id)
            .where(ReceivedFile.sender == sender)
        )


def held_sections(browser) -> dict[str, object]:
    return {s.get_attribute("data-key"): s for s in browser.css("section.held[data-key]")}


def test_the_review_queue_lists_every_held_record(demo, browser):
    held, position = set(), Counter()
    for record in demo.records():  # (file, seq): the export is in file and seq order
        position[record["file"]] += 1
        if record["status"] == "review":
            held.add((record["file"], position[record["file"]]))
    assert len(held) >= 4, held  # the demo's two and the extra file's two
    sign_in(browser, demo, "analyst1")
    browser.open("/erzl/review")
    browser.shot("04-review-queue")
    assert browser.css("h1"), browser.driver.page_source[:2000]
    sections = held_sections(browser)
    listed = {held_record_facts(s) for s in sections.values()}
    assert held <= listed, f"held records missing from the queue: {sorted(held - listed)}"
    pending = [k for k, s in sections.items() if by_css(s, ".s-awaiting_confirmation")]
    for key, section in sections.items():
        assert re.fullmatch(r"\d+:\d+", key), key
        if key not in pending:  # each can be resolved here, with a note
            assert by_css(section, "form.resolve textarea[name='note']"), key
            assert by_css(section, "form.resolve input[name='csrf']"), key
            assert by_css(section, "form.resolve button[name='action']"), key


def test_a_person_page_says_why_they_are_in_the_register(demo, browser):
    reports = demo.run_reports()
    births, rsv = run_ids(reports, "zags_births_ingest"), run_ids(reports, "fns_rsv_ingest")
    records = demo.records()
    sign_in(browser, demo, "analyst1")
    browser.open(f"/erzl/runs/{q(births)}")
    newborn = browser.one("table.enrolments tr[data-enp]").get_attribute("data-enp")
    browser.open(f"/erzl/runs/{q(rsv)}")
    worker = browser.one("table.enrolments tr[data-enp]").get_attribute("data-enp")

    browser.open(f"/erzl/persons/{newborn}")
    assert browser.one("#why").get_attribute("data-kind") == "birth"
    acts = {r["record_key"] for r in records if r["enp"] == newborn and r["status"] == "accepted"}
    assert browser.one("#act").text in acts, (browser.one("#act").text, acts)
    assert_history_has_sources(browser, newborn)
    browser.shot("06-person-newborn")

    browser.open(f"/erzl/persons/{worker}")
    assert browser.one("#why").get_attribute("data-kind") == "contributions"
    as_of = date.fromisoformat(reports[rsv]["as_of"])
    threshold = demo.settings.foreign_min_months(as_of)
    months = re.match(r"(\d+) of (\d+) required", browser.one("#months-count").text)
    assert months, browser.one("#months-count").text
    assert int(months.group(2)) == threshold <= int(months.group(1))
    assert len(browser.one("#months").text.split(", ")) == int(months.group(1))
    assert browser.one("#rule").text == demo.settings.foreign_rule_label(as_of)
    assert_history_has_sources(browser, worker)
    browser.shot("07-person-worker")

    # a source link opens the file the change came from
    link = browser.one("#history td.source a[href^='/erzl/files/']")
    name = link.text
    old = browser.one("html")
    link.click()
    wait_for_new_page(browser, old)
    assert name in browser.one("h1").text


def assert_history_has_sources(browser, enp: str) -> None:
    rows = browser.css("#history tbody tr")
    assert rows, f"/erzl/persons/{enp}: no history"
    for row in rows:
        links = by_css(row, "td.source a[href^='/erzl/files/']")
        assert links, f"/erzl/persons/{enp} v{row.get_attribute('data-version')}: no source file"


# --- resolving held records -------------------------------------------------------------------


def resolve_in_browser(browser, key: str, action: str, note: str) -> None:
    """Fill in the note of the held record's form and press its button; when the page offers
    no such button (to this user), post the same form the way the button would."""
    section = held_sections(browser)[key]
    old = browser.one("html")
    note_field = by_css(section, "textarea[name='note']")[0]
    note_field.clear()
    note_field.send_keys(note)
    buttons = by_css(section, f"button[name='action'][value='{action}']")
    if buttons:
        buttons[0].click()
    else:
        browser.driver.execute_script(
            "const form = arguments[0].querySelector('form');"
            "const field = document.createElement('input');"
            "field.type = 'hidden'; field.name = 'action'; field.value = arguments[1];"
            "form.appendChild(field); form.submit();",
            section,
            action,
        )
    wait_for_new_page(browser, old)


def notice(browser, what: str):
    """The message the queue page shows after a decision; what was served instead, if none."""
    found = browser.css("#message")
    if not found:
        body = browser.css("body")
        served = body[0].text[:600] if body else browser.driver.page_source[:600]
        raise AssertionError(
            f"{what}: POST {browser.driver.current_url} answered no queue page with a "
            f"#message; served: {served!r}"
        )
    return found[0]


def held_record_facts(section) -> tuple[str, int]:
    """The file name and the record's position, as the queue shows them."""
    name = by_css(section, "dl.facts dd a[href^='/erzl/files/'] code")[0].text
    seq = int(section.get_attribute("data-key").split(":")[1])
    return name, seq


def test_an_acceptance_in_the_console_takes_two_analysts(demo, browser):
    sign_in(browser, demo, "analyst1")
    browser.open("/erzl/review")
    sections = held_sections(browser)
    open_z007 = [
        k for k, s in sections.items()
        if "Z007" in s.find_element("css selector", "h2").text
        and not by_css(s, ".s-awaiting_confirmation")
    ]  # fmt: skip
    assert open_z007, f"no Z007 record to accept among {sorted(sections)}"
    key = open_z007[0]
    file_name, seq = held_record_facts(sections[key])

    # analyst1 accepts: the record waits for a second analyst
    resolve_in_browser(browser, key, "accept", "Status code 9999 confirmed with the ЗАГС office")
    message = notice(browser, "analyst1 accepts")
    assert "error" not in message.get_attribute("class"), message.text
    section = held_sections(browser).get(key)
    assert section is not None, "the record left the queue on the first acceptance"
    assert by_css(section, ".s-awaiting_confirmation"), "no 'awaiting confirmation' badge"
    assert "analyst1" in by_css(section, ".pending-by")[0].text
    browser.shot("05a-review-accepted-by-analyst1")

    # analyst1 again: one analyst cannot confirm their own acceptance
    resolve_in_browser(browser, key, "accept", "Confirming my own acceptance")
    message = notice(browser, "analyst1 confirms their own acceptance")
    assert "error" in message.get_attribute("class") and message.text.strip(), message.text
    assert key in held_sections(browser), "the maker's own confirmation took the record away"
    browser.shot("05b-review-refused-to-analyst1")

    # analyst2 confirms: the record is enrolled and leaves the queue
    browser.logout()
    browser.login(demo, "analyst2")
    browser.open("/erzl/review")
    section = held_sections(browser)[key]
    assert "analyst1" in by_css(section, ".pending-by")[0].text
    resolve_in_browser(browser, key, "accept", "Checked the act record: confirmed")
    message = notice(browser, "analyst2 confirms")
    assert "error" not in message.get_attribute("class"), message.text
    assert key not in held_sections(browser), "the confirmed record is still held"
    rows = [
        row.text for row in browser.css("table.decisions tbody tr")
        if by_css(row, "td code") and by_css(row, "td code")[0].text == key
    ]  # fmt: skip
    assert rows, "no decision row for the record"
    assert "analyst1" in " ".join(rows) and "analyst2" in " ".join(rows), rows
    browser.shot("05c-review-confirmed-by-analyst2")

    record = record_of(demo.records(), file_name, seq)
    assert record["status"] == "accepted", record
    assert record["enp"] and re.fullmatch(r"\d{16}", record["enp"]), record
    assert record["enp"] in {p["enp"] for p in demo.persons()}
    browser.open(f"/erzl/persons/{record['enp']}")
    assert browser.one("#why").get_attribute("data-kind") == "birth"
    assert browser.one("#act").text == record["record_key"]
    browser.shot("05d-person-accepted-in-review")


def review_list(demo) -> list[dict]:
    out = demo.erzl("review", "list", "--json").stdout.strip()
    if out.startswith("["):
        return json.loads(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def codes_of(item: dict) -> list[str]:
    return [c if isinstance(c, str) else c["code"] for c in item["codes"]]


def test_records_resolved_from_the_command_line_show_in_the_register_and_the_console(demo):
    held = review_list(demo)
    acceptable = [
        h for h in held
        if "Z007" in codes_of(h) and not h.get("pending") and "accept" in h["allowed"]
    ]  # fmt: skip
    assert acceptable, f"nothing to accept among {[h['key'] for h in held]}"
    item = acceptable[0]
    key = item["key"]
    file_name, seq = item["file_name"], int(key.split(":")[1])

    accept = ("review", "resolve", key, "--accept", "--note")
    demo.erzl(*accept, "Status code confirmed", "--as", "analyst1")
    waiting = {h["key"]: h for h in review_list(demo)}
    assert key in waiting and waiting[key].get("pending"), waiting.get(key)
    again = demo.erzl(*accept, "Me again", "--as", "analyst1", check=False)
    assert again.returncode != 0, "analyst1 confirmed their own acceptance"
    assert (again.stderr + again.stdout).strip(), "refused without a word"
    demo.erzl(*accept, "Confirmed", "--as", "analyst2")
    assert key not in {h["key"] for h in review_list(demo)}

    accepted = record_of(demo.records(), file_name, seq)
    assert accepted["status"] == "accepted" and accepted["enp"], accepted
    assert accepted["enp"] in {p["enp"] for p in demo.persons()}

    # a rejection applies at once
    rejectable = [h for h in review_list(demo) if not h.get("pending") and "reject" in h["allowed"]]
    assert rejectable, "nothing left to reject"
    other = rejectable[0]
    reject = ("review", "resolve", other["key"], "--reject", "--note")
    demo.erzl(*reject, "Partial date: ask the ЗАГС", "--as", "analyst2")
    assert other["key"] not in {h["key"] for h in review_list(demo)}
    rejected = record_of(demo.records(), other["file_name"], int(other["key"].split(":")[1]))
    assert rejected["status"] == "rejected", rejected

    with demo.client("analyst1") as client:
        queue = parse(client.get("/erzl/review").text)
        shown = set(queue.xpath("//section[@data-key]/@data-key"))
        assert key not in shown and other["key"] not in shown, shown
        decisions = {}
        for row in queue.xpath("//table[@class='decisions']//tbody/tr"):
            decisions.setdefault(row.xpath("string(td[1])").strip(), []).append(row.text_content())
        assert key in decisions and other["key"] in decisions, sorted(decisions)
        assert "analyst1" in " ".join(decisions[key]) and "analyst2" in " ".join(decisions[key])
        assert "reject" in " ".join(decisions[other["key"]])
        person = client.get(f"/erzl/persons/{accepted['enp']}")
        assert person.status_code == 200
        assert f'<code id="act">{accepted["record_key"]}</code>' in person.text
        file_page = parse(client.get(f"/erzl/files/{key.split(':')[0]}").text)
        outcomes = {
            row.xpath("string(td[1])").strip(): row.xpath("string(td[4])").strip()
            for row in file_page.xpath("//table[@class='records']//tbody/tr")
        }
        # the file's page lists the records not accepted: the accepted one is gone from it
        assert str(seq) not in outcomes or "accepted" in outcomes[str(seq)], outcomes


# --- privacy ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["demo", "second"])
def served(request, deployments):
    return deployments[request.param]


def raw_values(deployment):
    """The personal values of everything the deployment received (its archive) and of the
    register extract the demo loaded. The processing dates are left out: the pages print them
    as such (and the demo's "born after the act date" record is born on one)."""
    runs = deployment.run_reports().values()
    skip = {date.today()} | {date.fromisoformat(r["as_of"]) for r in runs}
    files = sorted(p for p in deployment.settings.archive.rglob("*") if p.is_file())
    values = personal_values(files, deployment.home / "demo" / "register.csv", skip_dates=skip)
    assert len(values) > 100, len(values)
    return values


def crawl(deployment, user: str, extra: list[str]) -> dict[str, tuple[int, str]]:
    """Every /erzl/ page reachable from the index by its links (a Data Docs page's included:
    its "Home"), plus ``extra``."""
    seen: dict[str, tuple[int, str]] = {}
    queue = deque(["/erzl/", *extra])
    with deployment.client(user) as client:
        while queue:
            path = queue.popleft()
            if path in seen:
                continue
            answer = client.get(path)
            seen[path] = (answer.status_code, answer.text)
            if answer.status_code != 200:
                continue
            for href in re.findall(r'href="([^"]*)"', answer.text):
                target = urlparse(urljoin(path, unescape(href)))
                if target.path.startswith("/erzl/"):
                    queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def test_no_served_page_holds_a_personal_value(served):
    values = raw_values(served)
    enps = sorted({p["enp"] for p in served.persons() if p["enp"]})
    pages = crawl(served, "analyst1", [f"/erzl/persons/{e}" for e in enps] + ["/erzl/review"])
    kinds = Counter(path.split("/")[2] or "index" for path in pages)
    print(f"\n{served.name}: {len(pages)} page(s) served: {dict(kinds)}; {len(values)} values")
    for kind in ("runs", "files", "senders", "rules", "persons", "data-docs", "review"):
        assert kinds[kind], f"{served.name}: no {kind} page reached ({dict(kinds)})"
    leaks = {}
    for path, (_status, text) in pages.items():
        found = values.found_in(text)
        if found:
            leaks[path] = sorted(found)[:5]
    assert not leaks, f"{len(leaks)} page(s) with personal values: {dict(list(leaks.items())[:10])}"
    failed = {path: status for path, (status, _) in pages.items() if status != 200}
    assert not failed, f"pages that did not answer 200: {failed}"


def test_no_written_report_data_docs_export_or_log_holds_a_personal_value(served, tmp_path):
    values = raw_values(served)

    def scan(root) -> dict[str, list[str]]:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        out = {}
        for path in paths:
            found = values.found_in(path.read_text("utf-8", errors="replace"))
            if found:
                out[str(path)] = sorted(found)[:5]
        return out

    home = served.home
    written = [home / "outbox" / "reports", home / "data_docs", served.log_path]
    assert all(p.exists() for p in written), [p for p in written if not p.exists()]
    assert "/erzl/" in served.log(), "the server's log has no request of the console"
    leaks = {}
    for root in written:
        leaks.update(scan(root))
    assert not leaks, f"files with personal values: {dict(list(leaks.items())[:10])}"

    static = tmp_path / "static"
    export = served.erzl("report", "--out", str(static), check=False)
    assert export.returncode == 0, f"erzl report --out: {export.stderr[-2000:]}"
    assert (static / "index.html").is_file() and (static / "review.html").is_file()
    leaks = scan(static)
    assert not leaks, f"static pages with personal values: {dict(list(leaks.items())[:10])}"
