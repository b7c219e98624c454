"""Five years of contribution reports in the form versions they were filed in, end to end: the
same foreign workers are enrolled as from the same history all in 5.08 (docs/formats.md)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select, text

from pipelines import check, config, run
from pipelines.demo.rsv_gen import (
    QUARTER_PERIOD,
    RsvPersonSpec,
    RsvReportSpec,
    make_org_inn,
    make_snils,
    write_rsv,
)
from pipelines.register import db
from pipelines.register.models import ForeignEligibility, ReceivedFile
from tests.helpers import register

# Assumption for the test, not a rule of the pipeline: one form version a year, counted back
# from the one VERSIONS.md has seen in real files (5.06 for ОтчетГод 2024) and forward to 5.08
# (2026); 5.07 for 2025 is believed, 5.03–5.05 for 2021–2023 are not established.
VERSION_OF_YEAR = {
    2021: "5.03",
    2022: "5.04",
    2023: "5.05",
    2024: "5.06",
    2025: "5.07",
    2026: "5.08",
}
# after the report for Q1 2026; the threshold is the default dated rule: 60 months from 2026
AS_OF = date(2026, 5, 20)
PAY = Decimal("52000.00")
ACME = ("ООО «Акме»", make_org_inn("770123456"), "770101001")


def worker(n: int, category: str, citizenship: str = "860") -> RsvPersonSpec:
    """Categories are given as 5.08 spells them; the generator writes ВППВ as ВПМС before it."""
    return RsvPersonSpec(
        snils=make_snils(520_000_000 + n),
        last_name="Юсупов",
        first_name="Азиз",
        birth_date=date(1989, 11, 3),
        citizenship=citizenship,
        document_kind="10" if citizenship != "643" else "21",
        document_number=f"FA{5200000 + n}",
        months=tuple((m, category, PAY) for m in (1, 2, 3)),
    )


# who is paid from which quarter to which (inclusive), as (year, quarter)
WORKERS = {
    "staying, ВПНР, 2021–2026": (worker(1, "ВПНР"), (2021, 1), (2026, 1)),
    "staying, ВППВ/ВПМС, 2021–2026": (worker(2, "ВППВ"), (2021, 1), (2026, 1)),
    "staying, ВППВ/ВПМС, 2021–2025 only": (worker(3, "ВППВ"), (2021, 1), (2025, 4)),
    "staying, from 2022: 51 months": (worker(4, "ВППВ"), (2022, 1), (2026, 1)),
    "residing, ВЖПВ/ВЖМС": (worker(5, "ВЖПВ"), (2021, 1), (2026, 1)),
    "resident, НР": (worker(6, "НР", "643"), (2021, 1), (2026, 1)),
}
ENTITLED = {WORKERS[k][0].snils for k in list(WORKERS)[:3]}


def filed(year: int, quarter: int, persons, version: str, **kw) -> RsvReportSpec:
    name, inn, kpp = ACME
    return RsvReportSpec(
        payer_name=name,
        payer_inn=inn,
        payer_kpp=kpp,
        year=year,
        period_code=QUARTER_PERIOD[quarter],
        persons=tuple(persons),
        form_version=version,
        **kw,
    )


def history(*, real_versions: bool) -> list[RsvReportSpec]:
    """One report a quarter, Q1 2021 to Q1 2026: 21 files."""
    quarters = [(y, q) for y in range(2021, 2026) for q in (1, 2, 3, 4)] + [(2026, 1)]
    specs = []
    for year, quarter in quarters:
        persons = [w for w, first, last in WORKERS.values() if first <= (year, quarter) <= last]
        version = VERSION_OF_YEAR[year] if real_versions else "5.08"
        # real 5.06 files (СБИС, 2024) leave out ДатаРожд and СерНомДок
        specs.append(
            filed(year, quarter, persons, version, omit_birth_and_document=version == "5.06")
        )
    return specs


@pytest.fixture
def other_settings(tmp_path, erzl_env, pg_template):
    """A second, empty register on the backend under test, for the all-5.08 history."""
    from tests.conftest import BACKEND, _pg_admin, _pg_url

    name = admin = None
    if BACKEND == "postgresql":
        name, admin = f"erzl_h_{uuid.uuid4().hex[:10]}", _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
        url = _pg_url(name)
    else:
        url = f"sqlite:///{tmp_path / 'all-5.08.sqlite3'}"
    env = {**erzl_env, "ERZL_HOME": str(tmp_path / "home-5.08"), "ERZL_DATABASE_URL": url}
    settings = config.load(env)
    run.ensure_schema(settings)
    yield settings
    db.dispose(settings)
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Outcome(NamedTuple):
    statuses: list[str]  # per file
    enrolled_count: int  # the run's total
    enrolled: set[str]  # СНИЛС in the register
    counted: dict[str, tuple[str, tuple[str, ...]]]  # СНИЛС → (status, months counted)
    violations: list


def ingest_history(settings, folder: Path, specs: list[RsvReportSpec]) -> Outcome:
    folder.mkdir()
    paths = [write_rsv(folder, spec) for spec in specs]
    files, totals = run.ingest(settings, paths, as_of=AS_OF)
    with db.session_scope(settings) as session:
        violations = check.check(session, settings)
        counted = {
            e.snils: (e.status, tuple(e.months))
            for e in session.scalars(select(ForeignEligibility))
        }
    assert totals.policies_issued == totals.enrolled
    enrolled = {p["snils"] for p in register(settings)}
    return Outcome([f.status for f in files], totals.enrolled, enrolled, counted, violations)


def test_five_years_in_their_own_versions_enrol_the_same_workers_as_all_in_5_08(
    settings, other_settings, tmp_path
):
    real = history(real_versions=True)
    assert sorted({s.form_version for s in real}) == sorted(set(VERSION_OF_YEAR.values()))
    assert len(real) == 21
    sample = write_rsv(tmp_path, real[12]).read_bytes().decode("cp1251")  # Q1 2024
    assert 'ВерсФорм="5.06"' in sample and 'КодКатЛиц="ВПМС"' in sample
    assert "ДатаРожд" not in sample and "ВППВ" not in sample

    got = ingest_history(settings, tmp_path / "real", real)
    same = ingest_history(other_settings, tmp_path / "all-5.08", history(real_versions=False))

    assert got.enrolled == same.enrolled == ENTITLED  # three workers: not an empty agreement
    assert got.enrolled_count == same.enrolled_count == len(ENTITLED)
    for outcome in (got, same):
        assert outcome.statuses == ["accepted"] * 21
        assert outcome.violations == []
    # the same months counted for every worker, whichever family spelt the category
    assert got.counted == same.counted
    snils = {key: spec.snils for key, (spec, _, _) in WORKERS.items()}
    assert len(got.counted[snils["staying, ВППВ/ВПМС, 2021–2025 only"]][1]) == 60  # all pre-5.08
    assert got.counted[snils["staying, from 2022: 51 months"]][0] == "counting"
    assert len(got.counted[snils["staying, from 2022: 51 months"]][1]) == 51
    assert snils["residing, ВЖПВ/ВЖМС"] not in got.counted
    assert snils["resident, НР"] not in got.counted


def test_a_worker_last_reported_without_birth_date_is_held_until_a_report_gives_it(
    settings, monkeypatch, tmp_path
):
    """A 5.06 file may leave ДатаРожд out: nothing to enrol from (R008) until a later report
    names it; the months counted meanwhile are kept."""
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "6")
    short = config.load()
    a = worker(7, "ВППВ")
    folder = tmp_path / "in"
    folder.mkdir()
    first = [filed(2024, q, [a], "5.06", omit_birth_and_document=True) for q in (1, 2)]
    files, totals = run.ingest(short, [write_rsv(folder, s) for s in first], as_of=AS_OF)
    assert [f.status for f in files] == ["accepted", "accepted"]
    assert (totals.enrolled, totals.review) == (0, 1)
    with db.session_scope(short) as session:
        held = session.get(ForeignEligibility, a.snils)
        assert (held.status, held.months_count) == ("held", 6)
        assert "R008" in held.rule
    assert register(short) == []

    later = filed(2024, 3, [a], "5.06")  # this one names the birth date
    _, totals = run.ingest(short, [write_rsv(folder, later)], as_of=AS_OF)
    assert totals.enrolled == 1
    [person] = register(short)
    assert (person["snils"], person["birth_date"]) == (a.snils, "1989-11-03")
    with db.session_scope(short) as session:
        assert check.check(session, short) == []


def test_a_report_in_a_version_not_read_is_refused_whole_and_the_others_are_applied(
    settings, tmp_path
):
    a = worker(8, "ВППВ")
    specs = [filed(2024, 1, [a], "5.99"), filed(2024, 2, [a], "5.06")]
    folder = tmp_path / "in"
    folder.mkdir()
    files, _ = run.ingest(settings, [write_rsv(folder, s) for s in specs], as_of=AS_OF)
    assert [(f.status, f.codes) for f in files] == [("rejected", ["F014"]), ("accepted", [])]
    with db.session_scope(settings) as session:
        refused = session.get(ReceivedFile, files[0].file_id)
        assert refused.format == "РСВ 5.99"
        assert refused.detail == "line 2: form version 5.99 is not supported (supported: 5.01–5.08)"
        assert session.get(ForeignEligibility, a.snils).months_count == 3  # Q2 only
        assert check.check(session, settings) == []


def test_a_birth_date_an_earlier_report_gave_is_kept_when_a_later_one_leaves_it_out(
    settings, monkeypatch, tmp_path
):
    """2023 in 5.05 names the birth date, 2024 in 5.06 leaves it out: the worker who reaches
    the term in 2024 is enrolled with the date already known, not held."""
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "6")
    short = config.load()
    a = worker(8, "ВППВ")
    folder = tmp_path / "in"
    folder.mkdir()
    specs = [
        filed(2023, 4, [a], "5.05"),
        filed(2024, 1, [a], "5.06", omit_birth_and_document=True),
    ]
    files, totals = run.ingest(short, [write_rsv(folder, s) for s in specs], as_of=AS_OF)
    assert [f.status for f in files] == ["accepted", "accepted"]
    assert (totals.enrolled, totals.review) == (1, 0)
    [person] = register(short)
    assert (person["snils"], person["birth_date"]) == (a.snils, "1989-11-03")
