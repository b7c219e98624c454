"""Each DAG end to end under Airflow with ``dag.test()`` (STYLE.md habit 9).

The metadata database is the session's SQLite one (tests/dags/conftest.py); the register is
whatever `erzl_env` gives, SQLite or PostgreSQL (ERZL_TEST_DATABASE), so the same tests prove
both. Tasks run in-process and read the ERZL_* environment that `erzl_env` set.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest
from lxml import etree
from sqlalchemy import func, select

from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_is_valid, snils_normalize
from pipelines.register import db, exports
from pipelines.register.models import Run

RECEIPT_NS = {"r": "urn:erzl-ingest:receipt:1.0"}
NOTICE_NS = {"n": "urn:erzl-ingest:insurer-notice:1.0"}
INSURERS = {"A01", "B02", "C03"}  # tests/conftest.py's insurers.csv


@pytest.fixture
def airflow_dag(airflow_db, dagbag):
    def get(dag_id: str):
        return dagbag.dags[dag_id]

    return get


def _run(dag, logical_date: pendulum.DateTime, conf: dict | None = None):
    """One DAG run; each test uses its own logical dates (one run per DAG and logical date)."""
    return dag.test(logical_date=logical_date, run_conf=conf)


def _states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _xcom(dag_run, task_id: str):
    """A task's return value; for a mapped task, its map indexes' values in order."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                key="return_value",
                map_indexes=None,
            )
        ).all()
        values = [(row.map_index, XComModel.deserialize_value(row)) for row in rows]
    if not values:
        return None
    if values[0][0] < 0:  # not mapped
        return values[0][1]
    return [value for _, value in sorted(values, key=lambda v: v[0])]


def _export(settings) -> list[dict]:
    with db.session_scope(settings) as session:
        return list(exports.persons(session))


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _receipt_records(path: Path) -> dict[str, dict]:
    root = etree.parse(str(path)).getroot()
    return {
        el.get("key"): {
            "outcome": el.get("outcome"),
            "enp": el.get("enp"),
            "codes": {c.get("code") for c in el.findall("r:Code", RECEIPT_NS)},
        }
        for el in root.findall("r:Records/r:Record", RECEIPT_NS)
    }


# --- births -----------------------------------------------------------------------------------


def _birth_specs(as_of: date) -> tuple[list[zags_gen.BirthSpec], dict[str, str]]:
    """Four live-born valid records, one stillbirth, one child СНИЛС with a wrong check digit;
    returns them with the outcome each must get."""
    rng = random.Random(20260302)
    specs = zags_gen.random_birth_specs(
        rng,
        6,
        act_date=as_of - timedelta(days=1),
        stillborn_rate=0,
        partial_date_rate=0,
        no_mother_rate=0,
        twins_rate=0,
        bad_mother_snils_rate=0,
        child_snils_rate=0.5,
    )
    specs[1] = dataclasses.replace(
        specs[1],
        stillborn=True,
        first_name=None,
        middle_name=None,
        snils=None,
        certificate_series=None,
        certificate_number=None,
    )
    specs[2] = dataclasses.replace(specs[2], snils=zags_gen.make_snils(rng, valid=False))
    expected = {s.act_number: "accepted" for s in specs}
    expected[specs[1].act_number] = "not_applicable"
    expected[specs[2].act_number] = "rejected"
    return specs, expected


def _person_key(last, first, middle, birth_date, sex) -> tuple:
    return (last, first, middle, str(birth_date), sex)


def test_births_dag_enrols_live_born_children_and_ignores_a_resend(airflow_dag, erzl_env, settings):
    dag = airflow_dag("zags_births_ingest")
    as_of = date(2026, 3, 2)
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True, exist_ok=True)
    specs, expected = _birth_specs(as_of)
    name = "ROGDINF_e2e_0001.xml"
    dropped = zags_gen.write_rogdinf(inbox / name, specs)
    content = dropped.read_bytes()

    # the logical date is three days later: the as_of param must win
    first = _run(dag, pendulum.datetime(2026, 3, 5, 9, tz="UTC"), {"as_of": as_of.isoformat()})

    assert str(first.state) == "success"
    assert _states(first) == {
        "claim": "success", "files": "success", "process": "success", "finish": "success",
    }  # fmt: skip
    assert list(inbox.iterdir()) == []
    assert len(_files_under(settings.archive)) == 1  # the raw file, kept by its hash

    receipts = list(settings.outbox.glob(f"receipts/*/ER_{name}"))
    assert len(receipts) == 1
    (summary,) = _xcom(first, "process")
    assert Path(summary["receipt"]) == receipts[0]
    records = _receipt_records(receipts[0])
    assert {key: r["outcome"] for key, r in records.items()} == expected
    assert "Z001" in records[specs[1].act_number]["codes"]
    assert "Z002" in records[specs[2].act_number]["codes"]

    persons = _export(settings)
    live_valid = [s for s in specs if expected[s.act_number] == "accepted"]
    assert sorted(
        _person_key(p["last_name"], p["first_name"], p["middle_name"], p["birth_date"], p["sex"])
        for p in persons
    ) == sorted(
        _person_key(s.last_name, s.first_name, s.middle_name, s.birth_date, s.sex)
        for s in live_valid
    )
    for person in persons:
        assert len(person["enp"]) == 16 and enp_is_valid(person["enp"]), person["enp"]
        assert person["enp"].startswith(settings.region)
        policy = {"status": "active", "valid_from": "2026-03-02", "valid_to": None}
        assert person["policy"] == policy
        assert person["insurer_code"] in INSURERS
    assert {r["enp"] for r in records.values() if r["outcome"] == "accepted"} == {
        p["enp"] for p in persons
    }

    totals = _xcom(first, "finish")
    assert totals["as_of"] == "2026-03-02"
    assert (totals["enrolled"], totals["policies_issued"]) == (len(live_valid),) * 2

    by_insurer: dict[str, set[str]] = {}
    for person in persons:
        by_insurer.setdefault(person["insurer_code"], set()).add(person["enp"])
    notices = {p.name.split("_")[1]: p for p in settings.outbox.glob("notices/*/NOTICE_*.xml")}
    assert set(notices) == set(INSURERS)  # every active insurer hears of the run
    for code, path in notices.items():
        listed = etree.parse(str(path)).getroot().findall("n:Persons/n:Person", NOTICE_NS)
        assert {el.get("enp") for el in listed} == by_insurer.get(code, set())

    # the same file dropped again: a file-level duplicate, the register unchanged
    (inbox / name).write_bytes(content)
    notices_before = _files_under(settings.outbox / "notices")

    second = _run(dag, pendulum.datetime(2026, 3, 6, 9, tz="UTC"), {"as_of": "2026-03-03"})

    assert str(second.state) == "success"
    assert list(inbox.iterdir()) == []
    (again,) = _xcom(second, "process")
    assert again["status"] == "duplicate"
    assert Path(again["receipt"]).name == f"PR_{name}"
    resent = _receipt_records(Path(again["receipt"]))
    assert set(resent) == set(expected)
    assert {r["outcome"] for r in resent.values()} == {"duplicate"}
    assert _export(settings) == persons
    assert _files_under(settings.outbox / "notices") == notices_before
    assert len(_files_under(settings.archive)) == 1


def test_births_dag_with_an_empty_inbox_skips_and_writes_nothing(airflow_dag, erzl_env, settings):
    dag = airflow_dag("zags_births_ingest")

    dag_run = _run(dag, pendulum.datetime(2026, 3, 7, 9, tz="UTC"))

    assert str(dag_run.state) == "success"
    assert _states(dag_run) == {
        "claim": "skipped", "files": "skipped", "process": "skipped", "finish": "skipped",
    }  # fmt: skip
    assert _files_under(settings.home) == []
    assert _export(settings) == []
    with db.session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0


# --- employer contribution reports, then the yearly renewal -----------------------------------


def test_rsv_dag_enrols_entitled_foreign_workers_then_renewal_dry_run(
    airflow_dag, erzl_env, settings, monkeypatch
):
    # three years of reports from two employers; 30 months is reachable by the steady workers
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "30")
    reports = rsv_gen.random_rsv_reports(random.Random(451), years=(2022, 2023, 2024), employers=2)
    inbox = settings.feed_inbox("fns_rsv")
    inbox.mkdir(parents=True, exist_ok=True)
    for spec in reports:
        rsv_gen.write_rsv(inbox, spec)
    staying = {
        snils_normalize(p.snils)
        for r in reports
        for p in r.persons
        if any(category.startswith("ВП") for _, category, _ in p.months)
    }

    # no as_of: the processing date is the logical date in the fund's time zone (Moscow)
    dag_run = _run(airflow_dag("fns_rsv_ingest"), pendulum.datetime(2026, 2, 19, 22, tz="UTC"))

    assert str(dag_run.state) == "success"
    assert _states(dag_run) == {
        "claim": "success", "files": "success", "process": "success", "finish": "success",
    }  # fmt: skip
    assert list(inbox.iterdir()) == []
    processed = _xcom(dag_run, "process")
    assert len(processed) == len(reports)
    assert {f["status"] for f in processed} <= {"accepted", "partially_accepted"}
    totals = _xcom(dag_run, "finish")
    assert totals["as_of"] == "2026-02-20"

    persons = _export(settings)
    assert persons, "no foreign worker reached 30 months: the fixture data no longer fits"
    assert totals["enrolled"] == len(persons)
    assert {p["snils"] for p in persons} <= staying
    for person in persons:
        assert enp_is_valid(person["enp"]), person["enp"]
        assert person["policy"] == {
            "status": "active",
            "valid_from": "2026-02-20",
            "valid_to": "2026-12-31",
        }
        assert person["insurer_code"] in INSURERS
    assert len(list(settings.outbox.glob("notices/*/NOTICE_*.xml"))) == len(INSURERS)

    # the turn of the year, dry run: every policy ending 31.12.2026 counted, nothing changed
    notices_before = _files_under(settings.outbox / "notices")
    renewal = _run(
        airflow_dag("foreign_policies_renewal"),
        pendulum.datetime(2027, 1, 1, 6, tz="UTC"),
        {"as_of": "2027-01-01", "dry_run": True},
    )

    assert str(renewal.state) == "success"
    counts = _xcom(renewal, "renew")
    assert counts["dry_run"] is True
    assert counts["renewed"] + counts["lapsed"] == len(persons)
    assert _export(settings) == persons
    assert _files_under(settings.outbox / "notices") == notices_before


def test_renewal_dag_dry_run_on_an_empty_register(airflow_dag, erzl_env, settings):
    dag_run = _run(
        airflow_dag("foreign_policies_renewal"),
        pendulum.datetime(2026, 12, 31, 21, tz="UTC"),  # 1 January 2027 in Moscow
        {"dry_run": True},
    )

    assert str(dag_run.state) == "success"
    counts = _xcom(dag_run, "renew")
    assert counts["as_of"] == "2027-01-01"
    assert (counts["dry_run"], counts["renewed"], counts["lapsed"]) == (True, 0, 0)
    assert counts["notices"] == []
