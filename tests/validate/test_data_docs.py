"""Great Expectations Data Docs: a page per validated file, every rule named by its reason code
and meaning, and no value of the data on any page."""

from __future__ import annotations

import dataclasses
import html
import logging
import random
import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipelines import run
from pipelines.codes import CATALOGUE
from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import snils_is_valid
from pipelines.parse import zags
from pipelines.validate import docs
from pipelines.validate.births import birth_suite, validate_births
from pipelines.validate.rsv import rsv_header_suite, rsv_person_suite
from pipelines.validate.suite import suite_codes
from tests.helpers import AS_OF, records
from tests.scenarios import births_scenario, personal_values

ACT_DATE = AS_OF - timedelta(days=1)
# failing values no page may show: a child's and a mother's СНИЛС with wrong check digits, a
# birth date after the act, a name
CHILD_SNILS = "11223344596"
MOTHER_SNILS = "98765432101"
LATE_BIRTH = ACT_DATE + timedelta(days=1)
SURNAME = "Ксенофонтова"


def _births(tmp_path, name="ROGDINF_dd.xml"):
    """Six acts, five of them failing a rule each, with distinctive failing values."""
    specs = zags_gen.random_birth_specs(
        random.Random(5), 6, act_date=ACT_DATE, stillborn_rate=0, partial_date_rate=0,
        no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0, child_snils_rate=0,
    )  # fmt: skip
    specs[0] = dataclasses.replace(specs[0], snils=CHILD_SNILS, last_name=SURNAME)  # Z002
    specs[1] = dataclasses.replace(specs[1], birth_date=LATE_BIRTH)  # Z003
    mother = dataclasses.replace(specs[2].mother, snils=MOTHER_SNILS)
    specs[2] = dataclasses.replace(specs[2], mother=mother)  # Z006
    specs[3] = dataclasses.replace(specs[3], status_code="9999")  # Z007
    specs[4] = dataclasses.replace(specs[4], stillborn=True)  # Z001
    return zags_gen.write_rogdinf(tmp_path / name, specs, request_id="r-dd")


def _rsv(tmp_path):
    """A report whose persons fail R001 and R006 with distinctive values (a missing СНИЛС, R002,
    is refused by the schema before any rule)."""
    pay = Decimal("41000.00")

    def person(n: int, **kw) -> rsv_gen.RsvPersonSpec:
        return rsv_gen.RsvPersonSpec(
            snils=kw.pop("snils", rsv_gen.make_snils(400_000_000 + n)), last_name="Эргашев",
            first_name="Бахтиёр", birth_date=date(1987, 11, 23), citizenship="860",
            document_kind="10", document_number=f"FB{3000000 + n}",
            months=((1, "ВПНР", pay), (2, "ВПНР", pay), (3, "ВПНР", pay)), **kw,
        )  # fmt: skip

    persons = [
        person(1),
        person(2, snils="112-233-445 96"),  # R001
        person(4, inn="123456789037"),  # R006: wrong check digits
    ]
    spec = rsv_gen.RsvReportSpec(
        payer_name="ООО «Гамма»", payer_inn=rsv_gen.make_org_inn("770987654"),
        payer_kpp="770901001", year=2025, period_code="34", persons=persons,
    )  # fmt: skip
    return rsv_gen.write_rsv(tmp_path, spec)


def _pages(settings) -> list:
    root = docs.data_docs_root(settings)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _text(path) -> str:
    """A page's visible text, one space between words."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text("utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_every_expectation_is_labelled_with_its_reason_code_and_meaning():
    for suite in (birth_suite(), rsv_header_suite(), rsv_person_suite()):
        for expectation in suite.expectations:
            code = expectation.meta["code"]
            reason = CATALOGUE[code]
            assert expectation.meta["reason_code"] == code
            assert expectation.meta["notes"] == {
                "format": "markdown",
                "content": [f"**{code}** — {reason.text} / {reason.text_ru}"],
            }


def test_a_validated_file_gets_a_page_naming_each_rule_by_code_and_meaning(settings, tmp_path):
    path = _births(tmp_path)
    [summary], totals = run.ingest(settings, [path], as_of=AS_OF)
    assert summary.status == "partially_accepted"
    codes = sorted(c for r in records(settings) for c in r["codes"])
    assert codes == ["Z001", "Z002", "Z003", "Z006", "Z007"]

    page = docs.data_docs_path(settings, totals.run_id, summary.file_id)
    assert _pages(settings) == [page]
    assert page.relative_to(docs.data_docs_root(settings)).as_posix() == docs.data_docs_url(
        totals.run_id, summary.file_id
    )
    text = _text(page)
    assert "Great Expectations" in text and path.name in text
    for code in suite_codes(birth_suite()):
        reason = CATALOGUE[code]
        assert code in text and reason.text in text and reason.text_ru in text, code
    # the counts of the file, summed: six records, one of them a stillbirth
    assert "1 unexpected values found" in text and "of 6 total rows" in text
    # nothing is loaded from elsewhere: no CDN script, stylesheet or image
    raw = page.read_text("utf-8")
    assert not re.search(r"""<(?:script|img)\b[^>]*\bsrc=["']https?:""", raw)
    assert not re.search(r"""<link\b[^>]*\bhref=["']https?:""", raw)
    # every link stays on the page or goes "Home", the console's runs page two levels up (where
    # the page is exported beside it and served under it); none to GE's site or suite pages
    links = set(re.findall(r"""\bhref=["']([^"']*)["']""", raw))
    assert "../../index.html" in links
    assert {link for link in links if not link.startswith("#")} == {"../../index.html"}
    assert "greatexpectations.io" not in raw and "expectations/" not in raw
    assert birth_suite().name in text  # the suite is still named, without a link


def test_no_value_of_the_data_reaches_a_page(settings, tmp_path):
    assert not snils_is_valid(CHILD_SNILS) and not snils_is_valid(MOTHER_SNILS)
    files = [_births(tmp_path), _rsv(tmp_path)]
    summaries, _ = run.ingest(settings, files, as_of=AS_OF)
    assert [s.status for s in summaries] == ["partially_accepted", "partially_accepted"]
    assert {c for r in records(settings) for c in r["codes"]} >= {"R001", "R006", "Z002"}

    pages = _pages(settings)
    assert len(pages) == 2
    values = personal_values(files) | {
        CHILD_SNILS, MOTHER_SNILS, "112-233-445 96", "123456789037", SURNAME, "Эргашев",
        LATE_BIRTH.isoformat(), LATE_BIRTH.strftime("%d.%m.%Y"), "1987-11-23", "23.11.1987",
    }  # fmt: skip
    assert len(values) > 20
    for page in pages:
        raw = page.read_text("utf-8")
        for text in (raw, html.unescape(raw)):
            assert [v for v in values if v in text] == [], page
            for field in ("unexpected_list", "unexpected_index", "partial_unexpected"):
                assert field not in text


def test_copies_and_unreadable_files_get_no_page(settings, tmp_path):
    made = births_scenario(tmp_path / "in")
    bad = tmp_path / "in" / "ROGDINF_bad.xml"
    bad.write_bytes(b"<ROGDINFResponse><unclosed>")
    summaries, totals = run.ingest(settings, [*made.files, bad], as_of=AS_OF)
    by_name = {s.file: s for s in summaries}
    assert by_name["ROGDINF_first_resent.xml"].status == "duplicate"
    assert by_name["ROGDINF_bad.xml"].status == "quarantined"
    validated = [by_name[n].file_id for n in ("ROGDINF_first.xml", "ROGDINF_second.xml")]
    assert _pages(settings) == sorted(
        docs.data_docs_path(settings, totals.run_id, file_id) for file_id in validated
    )


def test_a_page_that_cannot_be_written_is_one_warning_and_the_file_goes_on(
    settings, tmp_path, caplog
):
    docs.data_docs_root(settings).parent.mkdir(parents=True, exist_ok=True)
    docs.data_docs_root(settings).write_text("not a folder", "utf-8")  # every write fails
    path = _births(tmp_path)
    with caplog.at_level(logging.WARNING):
        [summary], _ = run.ingest(settings, [path], as_of=AS_OF)
    assert (summary.status, summary.received, summary.accepted) == ("partially_accepted", 6, 2)
    assert len(records(settings)) == 6
    warnings = [r for r in caplog.records if r.name == "pipelines.validate.docs"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert warnings[0].getMessage().startswith(f"file {summary.file_id}: Data Docs page not")


def _validate_in_batches(path, size):
    return validate_births(zags.iter_births(path), AS_OF, {"0001": "enrol"}, chunk_size=size)


def test_the_batches_of_a_file_are_summed_into_one_result_per_suite(tmp_path):
    path = _births(tmp_path)
    with docs.collecting() as collected:
        by_seq = _validate_in_batches(path, 4)  # two batches: four records and two
    assert len(collected) == 2
    [result] = collected.results()
    assert (result.suite_name, result.meta["batches"]) == ("births", 2)
    failing = {}
    for item in result.results:
        assert item.result["element_count"] == 6
        assert set(item.result) <= {
            "element_count", "missing_count", "missing_percent", "unexpected_count",
            "unexpected_percent", "unexpected_percent_total", "unexpected_percent_nonmissing",
        }  # fmt: skip
        failing[item.expectation_config.meta["code"]] = item.result["unexpected_count"]
    assert {k: v for k, v in failing.items() if v} == {
        code: sum(code in codes for codes in by_seq.values())
        for code in {c for codes in by_seq.values() for c in codes}
    }
    # what one batch of all six says is what two batches say
    with docs.collecting() as whole:
        _validate_in_batches(path, None)
    assert [r.result for r in whole.results()[0].results] == [r.result for r in result.results]


def test_collecting_belongs_to_its_own_thread(tmp_path):
    path = _births(tmp_path)
    seen = []

    def elsewhere():
        with docs.collecting() as mine:
            _validate_in_batches(path, None)
        seen.append(len(mine))

    with docs.collecting() as collected:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert len(collected) == 0  # the other thread's validation is not this one's
        _validate_in_batches(path, None)
    assert (len(collected), seen) == (1, [1])
    _validate_in_batches(path, None)  # no collection open: nothing is kept
    assert len(collected) == 1


def test_a_page_is_replaced_when_the_file_is_applied_again_and_removed_when_nothing_was_validated(
    settings, tmp_path
):
    path = _births(tmp_path)
    with docs.collecting() as first:
        _validate_in_batches(path, None)
    with docs.collecting() as second:
        _validate_in_batches(path, 2)
    page = docs.publish(settings, "cli-x", 41, "f.xml", first)
    assert page == docs.data_docs_path(settings, "cli-x", 41) and "Batch" in _text(page)
    assert "batches 1" in _text(page)
    assert docs.publish(settings, "cli-x", 41, "f.xml", second) == page
    assert "batches 3" in _text(page)
    with docs.collecting() as nothing:
        pass
    assert docs.publish(settings, "cli-x", 41, "f.xml", nothing) is None
    assert not page.exists()
    assert _pages(settings) == []  # nor any temporary file left behind


def test_a_file_name_is_shown_as_text_never_as_markup(tmp_path):
    path = _births(tmp_path)
    with docs.collecting() as collected:
        _validate_in_batches(path, None)
    page = docs.render_page("manual__2026-03-02T00:00:00+00:00", 7, "<b>x</b>.xml", collected)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;.xml" in page
    assert "manual__2026-03-02T00:00:00+00:00" in page
    assert docs.data_docs_url("manual__2026-03-02T00:00:00+00:00", 7) == (
        "manual__2026-03-02T00_00_00_00_00/7.html"
    )


def test_nothing_validated_is_no_page(settings):
    with pytest.raises(ValueError, match="nothing was validated"):
        docs.write_data_docs(settings, "cli-x", 1, "f.xml", [])


def test_results_with_failing_values_are_stripped_before_rendering(settings):
    """GE's own result formats carry failing values (and its pages show them): whatever a page
    is given, only counts reach it."""
    import pandas as pd

    from pipelines.validate.rsv import PERSON_COLUMNS
    from pipelines.validate.suite import _get_engine

    frame = pd.DataFrame.from_records(
        [(1, "112-233-445 96", "123456789037"), (2, None, "7701234567")],
        columns=list(PERSON_COLUMNS),
    )
    _, batch_definition = _get_engine()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(rsv_person_suite(), result_format="COMPLETE")
    assert "112-233-445 96" in str(result.to_json_dict())  # GE would show it
    page = docs.write_data_docs(settings, "cli-x", 3, "f.xml", [result]).read_text("utf-8")
    for value in ("112-233-445 96", "11223344596", "123456789037", "7701234567"):
        assert value not in page and value not in html.unescape(page)
    assert "R001" in page and "R006" in page
