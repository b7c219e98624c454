"""The console's pages over a real register, written as static HTML by `erzl report`: what an
analyst reads of a run, a file, a sender, a rule and a person — the figures, the masking by
field type, and why a person was enrolled. (Served under Airflow, with sign-in, in
tests/console.)"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.register import db
from pipelines.register.models import Policy
from tests.helpers import records
from tests.scenarios import AS_OF, births_scenario, personal_values, rsv_scenario

# a GUID holds eleven digits in a row: masking by digit patterns took it for a СНИЛС
GUID_NAME = "ROGDINF_0F2D1C44-976C-E123-4567-890166 23.xml"


class _Page(HTMLParser):
    """The text of a page, and the attributes of its elements by tag."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all_text(self) -> str:
        return " ".join(self.text)


def count_of(page: str, key: str) -> int:
    match = re.search(rf'data-count="{re.escape(key)}">(\d+)<', page)
    assert match, key
    return int(match.group(1))


def rule_row(page: str, code: str) -> str:
    match = re.search(rf'<tr data-code="{code}">(.*?)</tr>', page, re.S)
    assert match, code
    return match.group(1)


@pytest.fixture
def site(settings, tmp_path, monkeypatch):
    births = births_scenario(tmp_path / "births")
    guid = births.files[1].with_name(GUID_NAME)
    shutil.copyfile(births.files[1], guid)
    broken = tmp_path / "births" / "ROGDINF_broken.xml"
    broken.write_bytes(births.files[0].read_bytes()[:600])
    assert cli.main(["register", "load", str(births.register_csv)]) == 0
    cli.main(["ingest", "--as-of", AS_OF.isoformat(), *map(str, [*births.files, broken])])
    guid_dir = tmp_path / "guid"
    guid_dir.mkdir()
    shutil.move(guid, guid_dir / GUID_NAME)
    cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(guid_dir / GUID_NAME)])
    rsv = rsv_scenario(tmp_path / "rsv")
    for name, value in rsv.env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), *map(str, rsv.files)]) == 0
    # a year on, the yearly renewal: their last months are long past, the policies lapse
    assert cli.main(["renew", "--as-of", "2027-01-01"]) == 0
    out = tmp_path / "site"
    assert cli.main(["report", "--out", str(out)]) == 0
    inputs = [*births.files, *rsv.files]
    return out, inputs


def pages(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text("utf-8") for p in out.rglob("*.html")}


def run_pages(out: Path) -> dict[str, str]:
    return {p.stem: p.read_text("utf-8") for p in (out / "runs").glob("*.html")}


def test_a_run_page_counts_what_the_records_say(settings, site):
    from pipelines.emit import safe_name
    from pipelines.register.models import Run

    out, _ = site
    exported = records(settings)
    with db.session_scope(settings) as session:
        run_ids = [run.id for run in session.query(Run)]
        enrolled: dict[str, int] = {}
        for policy in session.query(Policy).filter(Policy.reason != "register_load"):
            enrolled[policy.issued_run_id] = enrolled.get(policy.issued_run_id, 0) + 1
    assert len(run_ids) == 4
    for run_id in run_ids:
        page = (out / "runs" / f"{safe_name(run_id)}.html").read_text("utf-8")
        mine = [r for r in exported if r["run_id"] == run_id]
        assert count_of(page, "received") == len(mine), run_id
        for outcome in ("accepted", "rejected", "review", "duplicate", "not_applicable"):
            assert count_of(page, outcome) == sum(r["status"] == outcome for r in mine)
        assert count_of(page, "enrolled") == enrolled.get(run_id, 0)


def test_a_duplicate_file_counts_its_code_once_and_a_quarantined_file_says_so(site):
    out, _ = site
    births = next(p for s, p in run_pages(out).items() if "ROGDINF_broken.xml" in p)
    # one re-sent file: F005 once, not once per record it holds
    assert '<td class="n">1</td>' in rule_row(births, "F005")
    assert "quarantined" in rule_row(births, "F001")
    assert "s-rejected" not in rule_row(births, "F001")


def test_file_names_and_act_numbers_are_shown_as_they_are(settings, site):
    out, _ = site
    everything = "\n".join(pages(out).values())
    assert GUID_NAME in everything
    acts = {r["record_key"] for r in records(settings) if r.get("record_key")}
    zags_acts = [a for a in acts if len(a) > 11]
    assert any(a in everything for a in zags_acts)


def test_the_rsv_run_lists_every_worker_it_enrolled_and_says_why(settings, site):
    out, _ = site
    rsv = next(p for p in run_pages(out).values() if "NO_RASCHSV" in p)
    enrolled = count_of(rsv, "enrolled")
    assert enrolled > 0
    assert len(re.findall(r'<tr data-enp="\d{16}">', rsv)) == enrolled


def test_the_person_page_explains_an_enrolment_from_an_act_and_from_contributions(settings, site):
    from pipelines.console.pages import Site

    acts = {r["record_key"] for r in records(settings)}
    with db.session_scope(settings) as session:
        by_reason = {p.reason: p.enp for p in session.query(Policy)}
        site_ = Site()
        newborn = site_.person_page(session, by_reason["newborn"])
        worker = site_.person_page(session, by_reason["foreign_worker"])
    assert 'data-kind="birth"' in newborn
    act = re.search(r'<code id="act">(\d+)</code>', newborn)
    assert act and act.group(1) in acts
    assert "fund_share" in newborn or "mother_insurer" in newborn
    assert 'data-kind="contributions"' in worker
    months = re.search(r'id="months-count">(\d+) of (\d+)', worker)
    assert months and int(months.group(1)) >= int(months.group(2)) == 3
    # every change names the file and record it came from, or the run that decided it (the
    # renewal that lapsed the worker's policy reads no file)
    for page in (newborn, worker):
        rows = re.findall(r'<tr data-version="\d+">.*?<td class="source">(.*?)</td>', page, re.S)
        assert rows and "files/" in rows[0]
        assert all("files/" in row or "decided by run" in row for row in rows)


def test_no_page_holds_a_personal_value_of_the_input(settings, site):
    from pipelines.console.pages import Site

    out, inputs = site
    raw = personal_values(inputs)
    texts = dict(pages(out))
    with db.session_scope(settings) as session:
        for (enp,) in session.query(Policy.enp):
            texts[f"person {enp}"] = Site().person_page(session, enp)
    for name, text in texts.items():
        leaked = {value for value in raw if value in text}
        assert not leaked, (name, sorted(leaked)[:3])


def test_a_renewal_run_says_how_many_were_renewed_and_lapsed(settings, site):
    from pipelines.register.models import Run

    out, _ = site
    with db.session_scope(settings) as session:
        renewal = session.query(Run).filter(Run.trigger == "renewal").one()
        counts = renewal.totals["renewal"]
        lapsed = session.query(Policy).filter(Policy.status == "lapsed").count()
    page = next(
        p for s, p in run_pages(out).items() if "renewal" in p and 'data-count="renewal-' in p
    )
    assert counts["lapsed"] == lapsed > 0
    assert count_of(page, "renewal-lapsed") == lapsed
    assert count_of(page, "renewal-renewed") == counts.get("renewed", 0)
    assert f'data-event="policy_lapsed">{lapsed}<' in page


def test_masking_goes_by_the_field_never_by_the_digits():
    from datetime import date

    from pipelines.privacy import mask_field, mask_fields, mask_record_key

    shown = mask_fields(
        {
            "snils": "11223344595",
            "last_name": "Иванова",
            "birth_date": date(1990, 5, 17),
            "residence": "г. Курган, ул. Ленина, 1",
            "document_number": "123456",
            "enp": "4501983082500011",
            "file_name": GUID_NAME,
            "review_decision": {"id": 3, "action": "accept", "decided_by": "analyst1"},
            "something_new": "Иванова",
        }
    )
    assert shown == {
        "snils": "***-***-*45 95",
        "last_name": "И*****",
        "birth_date": "1990-**-**",
        "residence": "(on file)",
        "document_number": "****56",
        "enp": "4501983082500011",
        "file_name": GUID_NAME,
        "review_decision": {"id": 3, "action": "accept", "decided_by": "analyst1"},
        "something_new": "***",  # a field nobody listed is never shown
    }
    assert mask_record_key("zags_births", "120259000000100001002") == "120259000000100001002"
    assert mask_record_key("fns_rsv", "11223344595") == "***-***-*45 95"
    assert mask_field("birth_date", "2024-03") == "2024-**-**"


def test_a_file_another_run_took_over_still_links_its_data_docs(settings, site):
    """Data Docs are kept under the run that received the file; the run that finished it after
    the first one died links them from there."""
    from datetime import UTC, datetime

    from pipelines.console.pages import Site
    from pipelines.register.models import ReceivedFile, Run
    from pipelines.validate.docs import data_docs_path

    with db.session_scope(settings) as session:
        row = session.query(ReceivedFile).filter(ReceivedFile.name == "ROGDINF_first.xml").one()
        assert data_docs_path(settings, row.run_id, row.id).is_file()
        session.add(
            Run(id="took-over", trigger="cli", as_of=AS_OF, started_at=datetime.now(UTC),
                status="finished")
        )  # fmt: skip
        session.flush()
        row.owner_run_id = "took-over"
        received_by, file_id = row.run_id, row.id
    with db.session_scope(settings) as session:
        run_page = Site().run_page(session, settings, "took-over")
        file_page = Site().file_page(session, settings, file_id)
    link = f"/erzl/data-docs/{received_by}/{file_id}"
    assert link in run_page and link in file_page
