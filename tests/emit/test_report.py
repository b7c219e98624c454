import json
import re
from dataclasses import fields, replace
from datetime import UTC, date, datetime

import pytest

from pipelines.codes import FileStatus, Outcome
from pipelines.emit.model import FileReport, ReceiptRecord, RuleCount, RunReport
from pipelines.emit.report import write_run_report

RUN_ID = "scheduled__2025-04-20T00:00:00+00:00"
RAW_SNILS = ("14848125585", "112-233-445 95", "11223344590")


def counts(**outcomes):
    full = {o.value: 0 for o in Outcome} | outcomes
    return {"received": sum(full.values()), **full}


def make_report(**overrides):
    zags = FileReport(
        file_name="ROGDINF_20250420.xml",
        feed="zags_births",
        status=FileStatus.PARTIALLY_ACCEPTED,
        file_codes=(),
        counts=counts(accepted=1, rejected=1),
        rule_counts=(RuleCount.of("Z002", 1),),
        records=(
            ReceiptRecord(1, "120259000000100001001", Outcome.ACCEPTED, (), "2341998071655749"),
            ReceiptRecord(2, "120259000000100001002", Outcome.REJECTED, ("Z002",)),
        ),
    )
    rsv = FileReport(
        file_name="NO_RASCHSV_1_162_00_05_08_02_20250420_ID.xml",
        feed="fns_rsv",
        status=FileStatus.PARTIALLY_ACCEPTED,
        file_codes=(),
        counts=counts(accepted=1, rejected=1, review=1),
        rule_counts=(RuleCount.of("R001", 1), RuleCount.of("R004", 1)),
        records=(
            # an РСВ person block's key is the person's СНИЛС, as the report spells it
            ReceiptRecord(1, "14848125585", "accepted", (), None),
            ReceiptRecord(2, "11223344590", "rejected", ("R001",)),
            ReceiptRecord(3, "112-233-445 95", "review", ("R004",)),
        ),
    )
    broken = FileReport(
        file_name="ROGDINF_broken.xml",
        feed="zags_births",
        status=FileStatus.QUARANTINED,
        file_codes=("F001",),
        counts=counts(),
        rule_counts=(),
        records=(),
    )
    values = {
        "run_id": RUN_ID,
        "as_of": date(2025, 4, 20),
        "started_at": datetime(2025, 4, 20, 1, 0, tzinfo=UTC),
        "finished_at": datetime(2025, 4, 20, 1, 2, 5, tzinfo=UTC),
        "files": (zags, rsv, broken),
        "totals": {"enrolled": 1, "policies_issued": 1, "review": 1, "notifications": 1},
        "run_codes": (
            RuleCount.of("Z002", 1),
            RuleCount.of("R001", 1),
            RuleCount.of("R004", 1),
            RuleCount.of("F001", 1),
        ),
    }
    return RunReport(**(values | overrides))


@pytest.fixture
def written(tmp_path):
    return write_run_report(make_report(), tmp_path)


def test_name(written):
    assert written.name == "report_scheduled__2025-04-20T00_00_00_00_00.json"


def test_json_has_the_full_structure(written):
    data = json.loads(written.read_text("utf-8"))
    assert data["run_id"] == RUN_ID
    assert data["as_of"] == "2025-04-20"
    assert data["duration_seconds"] == 125
    assert data["totals"] == {"enrolled": 1, "policies_issued": 1, "review": 1, "notifications": 1}
    assert [r["code"] for r in data["run_codes"]] == ["Z002", "R001", "R004", "F001"]
    assert data["run_codes"][0] == {
        "code": "Z002",
        "outcome": "rejected",
        "severity": "error",
        "text": "Child's СНИЛС has a wrong check digit",
        "count": 1,
    }
    zags, rsv, broken = data["files"]
    assert zags["counts"] == {
        "received": 2,
        "accepted": 1,
        "rejected": 1,
        "review": 0,
        "duplicate": 0,
        "not_applicable": 0,
    }
    assert zags["records"][0] == {
        "seq": 1,
        "record_key": "120259000000100001001",
        "outcome": "accepted",
        "codes": [],
        "enp": "2341998071655749",
    }
    assert rsv["status"] == "partially_accepted"
    assert broken["file_codes"][0]["code"] == "F001"
    for f in data["files"]:
        c = f["counts"]
        assert c["received"] == sum(v for k, v in c.items() if k != "received")


def test_the_rsv_keys_are_masked_as_snils_and_act_numbers_and_names_are_not(written):
    text = written.read_text("utf-8")
    for raw in RAW_SNILS:
        assert raw not in text, raw
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", text)
    for masked in ("***-***-*55 85", "***-***-*45 95", "***-***-*45 90"):
        assert masked in text
    data = json.loads(text)
    # masked by what the field is, not by its digits: act numbers and file names are kept
    assert data["files"][0]["records"][1]["record_key"] == "120259000000100001002"
    assert data["files"][1]["file_name"] == "NO_RASCHSV_1_162_00_05_08_02_20250420_ID.xml"


def test_the_model_cannot_carry_names():
    for cls in (RunReport, FileReport, RuleCount, ReceiptRecord):
        names = {f.name for f in fields(cls)}
        assert not names & {"last_name", "first_name", "middle_name", "snils", "birth_date"}


def test_counts_that_do_not_add_up_are_refused(tmp_path):
    good = make_report().files[0]
    bad = replace(good, counts={**good.counts, "received": 5})
    with pytest.raises(ValueError):
        write_run_report(make_report(files=(bad,)), tmp_path)


def test_naive_and_aware_times_give_no_duration(tmp_path):
    report = make_report(started_at=datetime(2025, 4, 20, 1, 0))
    assert (
        json.loads(write_run_report(report, tmp_path).read_text("utf-8"))["duration_seconds"]
        is None
    )


def test_empty_run(tmp_path):
    path = write_run_report(make_report(files=(), run_codes=(), totals={}), tmp_path)
    assert json.loads(path.read_text("utf-8"))["files"] == []
