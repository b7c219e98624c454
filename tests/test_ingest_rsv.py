"""Employer contribution reports end to end: ledger, corrections, eligibility, renewal."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from pipelines import config, run
from pipelines.demo.rsv_gen import (
    QUARTER_PERIOD,
    RsvPersonSpec,
    RsvReportSpec,
    make_org_inn,
    make_snils,
    write_rsv,
)
from pipelines.enrol import contributions
from pipelines.register import db
from pipelines.register.models import ContributionMonth, ContributionReport, ForeignEligibility
from tests.helpers import receipt, records, register

PAY = Decimal("50000.00")
ACME = ("ООО «Акме»", make_org_inn("770123456"), "770101001")
BETA = ("АО «Бета»", make_org_inn("500100732"), "500101001")


def worker(n: int, category: str = "ВПНР", citizenship: str = "860", **kw) -> RsvPersonSpec:
    return RsvPersonSpec(
        snils=make_snils(200_000_000 + n),
        last_name="Каримов",
        first_name="Алишер",
        middle_name="Рустамович",
        birth_date=date(1990, 5, 17),
        citizenship=citizenship,
        document_kind="10",
        document_number=f"FA{1000000 + n}",
        months=kw.pop("months", ((1, category, PAY), (2, category, PAY), (3, category, PAY))),
        **kw,
    )


def report(payer, year, quarter, persons, correction=0) -> RsvReportSpec:
    name, inn, kpp = payer
    return RsvReportSpec(
        payer_name=name,
        payer_inn=inn,
        payer_kpp=kpp,
        year=year,
        period_code=QUARTER_PERIOD[quarter],
        correction_no=correction,
        persons=persons,
    )


def quarters(start_year: int, count: int):
    for i in range(count):
        yield start_year + i // 4, i % 4 + 1


@pytest.fixture
def months_6(monkeypatch, erzl_env):
    """A short term keeps the files few; the dated rule itself is tested separately."""
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "6")
    return config.load()


def ingest(settings, tmp_path, specs, as_of=date(2026, 3, 2)):
    paths = [write_rsv(tmp_path, spec) for spec in specs]
    return run.ingest(config.load(), paths, as_of=as_of)


def ledger(settings) -> dict:
    with db.session_scope(settings) as session:
        return {
            (r.payer_inn, r.year, r.quarter, r.snils, r.month): (r.insured_category, r.amount)
            for r in session.query(ContributionMonth)
        }


def test_worker_split_between_employers_is_enrolled_when_months_reach_the_term(
    settings, months_6, tmp_path
):
    a, resident, residing = worker(1), worker(2, "НР", "643"), worker(3, "ВЖНР")
    one_month = worker(1, months=((1, "ВПНР", PAY),))
    specs = [
        report(ACME, 2025, 1, [a, resident, residing]),
        report(ACME, 2025, 2, [a, resident, residing]),
        # the same month paid by two employers counts once
        report(BETA, 2025, 2, [one_month]),
    ]
    files, totals = ingest(settings, tmp_path, specs)
    assert all(f.status == "accepted" and f.received == f.accepted for f in files)
    assert (totals.enrolled, totals.policies_issued) == (1, 1)
    [person] = register(settings)
    assert person["snils"] == a.snils and person["insurer_code"] in {"A01", "B02", "C03"}
    assert person["policy"] == {"status": "active", "valid_from": "2026-03-02",
                                "valid_to": "2026-12-31"}  # fmt: skip
    with db.session_scope(settings) as session:
        why = session.get(ForeignEligibility, a.snils)
        assert why.months == [f"2025-{m:02d}" for m in range(1, 7)]
        assert (why.months_count, why.threshold, why.status) == (6, 6, "enrolled")
        assert "ERZL_FOREIGN_MIN_MONTHS=6" in why.rule


def test_below_the_term_nobody_is_enrolled_and_residents_never(settings, months_6, tmp_path):
    specs = [report(ACME, 2025, 1, [worker(1), worker(2, "НР", "643"), worker(3, "ВЖНР")])]
    for year, quarter in quarters(2023, 8):
        specs.append(report(BETA, year, quarter, [worker(2, "НР", "643"), worker(3, "ВЖНР")]))
    _, totals = ingest(settings, tmp_path, specs)
    assert totals.enrolled == 0 and register(settings) == []


def test_correction_replaces_listed_persons_annulment_removes_stale_changes_nothing(
    settings, months_6, tmp_path
):
    a, b = worker(1), worker(2)
    primary = report(ACME, 2025, 1, [a, b])
    fixed = report(ACME, 2025, 1, [worker(1, months=((1, "ВПНР", PAY),))], correction=1)
    annul = report(ACME, 2025, 1, [worker(2, annulled=True, months=())], correction=2)
    stale = report(ACME, 2025, 1, [worker(1)], correction=1)
    ingest(settings, tmp_path, [primary])
    assert len(ledger(settings)) == 6
    ingest(settings, tmp_path, [fixed])
    after_fix = ledger(settings)
    assert sorted(k[3:] for k in after_fix) == sorted(
        [(a.snils, 1), (b.snils, 1), (b.snils, 2), (b.snils, 3)]
    )
    files, _ = ingest(settings, tmp_path, [annul])
    assert sorted(k[3:] for k in ledger(settings)) == [(a.snils, 1)]
    assert records(settings)[-1]["codes"] == ["R003"] and files[0].accepted == 1
    files, _ = ingest(settings, tmp_path, [stale])
    assert (files[0].status, files[0].duplicate, files[0].codes) == ("duplicate", 1, ["F013"])
    assert sorted(k[3:] for k in ledger(settings)) == [(a.snils, 1)]


def test_resending_the_same_report_changes_nothing(settings, months_6, tmp_path):
    spec = report(ACME, 2025, 1, [worker(1), worker(2)])
    ingest(settings, tmp_path, [spec])
    before = ledger(settings), register(settings)
    files, _ = ingest(settings, tmp_path, [spec])
    assert files[0].status == "duplicate" and files[0].received == files[0].duplicate == 2
    assert (ledger(settings), register(settings)) == before


def test_wrong_payer_inn_refuses_the_whole_file(settings, months_6, tmp_path):
    bad = report(ACME, 2025, 1, [worker(1), worker(2)]).with_wrong_inn_check_digit()
    files, _ = ingest(settings, tmp_path, [bad])
    assert (files[0].status, files[0].codes) == ("rejected", ["F010"])
    assert (files[0].received, files[0].rejected) == (2, 2)
    assert files[0].receipt.split("/")[-1].startswith("ER_")
    assert ledger(settings) == {}


def test_wrong_person_snils_rejects_that_block_only(settings, months_6, tmp_path):
    good, broken = worker(1), worker(2)
    wrong = broken.snils[:-1] + str((int(broken.snils[-1]) + 1) % 10)
    broken = dataclasses.replace(broken, snils=wrong)
    files, _ = ingest(settings, tmp_path, [report(ACME, 2025, 1, [good, broken])])
    assert (files[0].status, files[0].accepted, files[0].rejected) == ("partially_accepted", 1, 1)
    sent = receipt(files[0].receipt)
    assert [r["codes"] for r in sent["records"]] == [[], ["R001"]]
    assert {k[3] for k in ledger(settings)} == {good.snils}


def test_losing_eligibility_after_enrolment_is_held_for_review(settings, months_6, tmp_path):
    a = worker(1)
    ingest(settings, tmp_path, [report(ACME, 2025, 1, [a]), report(ACME, 2025, 2, [a])])
    assert len(register(settings)) == 1
    annul = report(ACME, 2025, 2, [worker(1, annulled=True, months=())], correction=1)
    _, totals = ingest(settings, tmp_path, [annul])
    assert totals.review == 1
    [person] = register(settings)
    assert person["policy"]["status"] == "active"  # never revoked silently
    with db.session_scope(settings) as session:
        assert session.get(ForeignEligibility, a.snils).status == "review"


def test_threshold_in_force_on_the_processing_date(settings, tmp_path):
    specs = [report(ACME, y, q, [worker(1)]) for y, q in quarters(2022, 14)]  # 42 months
    paths = [write_rsv(tmp_path, s) for s in specs]
    _, before = run.ingest(settings, paths, as_of=date(2025, 12, 31))
    assert before.enrolled == 1  # 36 months were enough in 2025
    assert settings.foreign_min_months(date(2026, 1, 1)) == 60
    assert settings.foreign_min_months(date(2025, 12, 31)) == 36


def test_threshold_of_2026_needs_sixty_months(settings, tmp_path):
    specs = [report(ACME, y, q, [worker(1)]) for y, q in quarters(2022, 14)]  # 42 months
    paths = [write_rsv(tmp_path, s) for s in specs]
    _, after = run.ingest(settings, paths, as_of=date(2026, 1, 1))
    assert after.enrolled == 0


def test_insured_person_gets_working_status_and_employer(settings, tmp_path):
    from pipelines import cli
    from pipelines.identifiers import enp_compose

    citizen = worker(5, "НР", "643")
    load = tmp_path / "register.csv"
    load.write_text(
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status\n"
        f"{enp_compose('45', 0, date(1990, 5, 17), 7)},{citizen.snils},Иванов,Иван,,"
        "1990-05-17,1,A01,active\n",
        "utf-8",
    )
    assert cli.main(["register", "load", str(load)]) == 0
    ingest(settings, tmp_path, [report(ACME, 2025, 1, [citizen]), report(BETA, 2025, 2, [citizen])])
    from pipelines.register.models import Person, PersonHistory

    with db.session_scope(settings) as session:
        person = session.query(Person).one()
        assert (person.working, person.employer_inn) == (True, BETA[1])
        changes = [h.change for h in session.query(PersonHistory).order_by(PersonHistory.version)]
        assert changes.count("working_status_from_rsv") == 2


def test_renewal_renews_while_contributions_continue_and_lapses_otherwise(
    settings, months_6, tmp_path
):
    stays, leaves = worker(1), worker(2)
    specs = [report(ACME, 2025, q, [stays, leaves]) for q in (1, 2)]
    ingest(settings, tmp_path, specs, as_of=date(2025, 9, 1))
    ingest(settings, tmp_path, [report(ACME, 2025, 3, [stays])], as_of=date(2025, 11, 1))
    result = run.renew(config.load(), as_of=date(2026, 1, 1), dry_run=False)
    assert (result["renewed"], result["lapsed"]) == (2, 0)  # both paid within the year
    result = run.renew(config.load(), as_of=date(2027, 1, 1), dry_run=True)
    assert (result["renewed"], result["lapsed"]) == (0, 2)
    people = {p["snils"]: p["policy"] for p in register(settings)}
    assert people[stays.snils] == {"status": "active", "valid_from": "2025-09-01",
                                   "valid_to": "2026-12-31"}  # fmt: skip


def test_files_of_one_run_apply_in_document_order_whatever_order_they_come_in(
    settings, months_6, tmp_path
):
    a = worker(1)
    primary = report(ACME, 2025, 1, [a])
    fixed = dataclasses.replace(
        report(ACME, 2025, 1, [worker(1, months=((2, "ВПНР", PAY),))], correction=1),
        document_date=date(2025, 6, 1),
    )
    files, _ = ingest(settings, tmp_path, [fixed, primary])  # the correction is given first
    assert [f.file for f in files] == [f"{primary.file_id}.xml", f"{fixed.file_id}.xml"]
    assert sorted(k[3:] for k in ledger(settings)) == [(a.snils, 2)]


def test_malformed_payer_kpp_refuses_the_whole_file(settings, months_6, tmp_path):
    name, inn, _ = ACME
    bad = report((name, inn, "770101O01"), 2025, 1, [worker(1)])
    files, _ = ingest(settings, tmp_path, [bad])
    assert (files[0].status, files[0].codes, files[0].rejected) == ("rejected", ["F011"], 1)
    assert ledger(settings) == {}


def test_a_higher_threshold_later_does_not_take_back_a_policy(settings, tmp_path):
    specs = [report(ACME, y, q, [worker(1)]) for y, q in quarters(2022, 12)]  # 36 months
    _, before = run.ingest(
        settings, [write_rsv(tmp_path, s) for s in specs], as_of=date(2025, 12, 1)
    )
    assert before.enrolled == 1
    later = report(BETA, 2026, 1, [worker(2, "НР", "643")])
    _, after = run.ingest(settings, [write_rsv(tmp_path, later)], as_of=date(2026, 5, 1))
    assert (after.review, after.enrolled) == (0, 0)
    with db.session_scope(settings) as session:
        entry = session.get(ForeignEligibility, worker(1).snils)
        assert (entry.status, entry.threshold) == ("enrolled", 36)


def test_a_person_in_two_blocks_of_one_file_has_the_months_of_both(settings, months_6, tmp_path):
    first = worker(1, months=((1, "ВПНР", PAY),))
    second = worker(1, months=((2, "ВПНР", PAY), (3, "ВПНР", PAY)))
    files, _ = ingest(settings, tmp_path, [report(ACME, 2025, 1, [first, second])])
    assert (files[0].accepted, files[0].received) == (2, 2)
    assert records(settings)[-1]["codes"] == ["R005"]
    assert sorted(k[4] for k in ledger(settings)) == [1, 2, 3]


def test_lapsed_worker_whose_contributions_resume_gets_the_policy_back(
    settings, months_6, tmp_path
):
    a = worker(1)
    ingest(settings, tmp_path, [report(ACME, 2025, q, [a]) for q in (1, 2)], as_of=date(2025, 8, 1))
    [enrolled] = register(settings)
    lapse = run.renew(config.load(), as_of=date(2026, 1, 1), dry_run=False)
    assert (lapse["renewed"], lapse["lapsed"]) == (1, 0)  # paid in 2025: renewed to 2026
    lapse = run.renew(config.load(), as_of=date(2027, 1, 1), dry_run=False)
    assert lapse["lapsed"] == 1  # nothing paid in 2026
    assert register(settings)[0]["policy"]["status"] == "lapsed"
    ingest(settings, tmp_path, [report(ACME, 2027, 1, [a])], as_of=date(2027, 5, 1))
    [back] = register(settings)
    assert back["enp"] == enrolled["enp"]
    assert back["policy"] == {"status": "active", "valid_from": "2027-05-01",
                              "valid_to": "2027-12-31"}  # fmt: skip


def test_policy_term_is_a_setting_and_a_missed_renewal_catches_up(monkeypatch, erzl_env, tmp_path):
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "3")
    monkeypatch.setenv("ERZL_FOREIGN_POLICY_TERM", "months:6")
    settings = config.load()
    run.ensure_schema(settings)
    a = worker(1)
    ingest(settings, tmp_path, [report(ACME, 2025, 1, [a])], as_of=date(2025, 4, 10))
    assert register(settings)[0]["policy"]["valid_to"] == "2025-10-09"
    ingest(settings, tmp_path, [report(ACME, 2025, 3, [a])], as_of=date(2025, 11, 1))
    # a run in May 2027 catches up term by term: the terms ending 2025-10-09 and 2026-04-09
    # had counted months in the twelve before them and are renewed; the one ending 2026-10-09
    # had none, so the policy lapses there
    result = run.renew(settings, as_of=date(2027, 5, 1), dry_run=False)
    assert (result["renewed"], result["lapsed"]) == (0, 1)
    policy = register(settings)[0]["policy"]
    assert (policy["status"], policy["valid_to"]) == ("lapsed", "2026-10-09")


def test_term_setting_is_checked():
    with pytest.raises(ValueError, match="ERZL_FOREIGN_POLICY_TERM"):
        config.load({"ERZL_FOREIGN_POLICY_TERM": "weeks:3"})
    term = config.load({"ERZL_FOREIGN_POLICY_TERM": "months:1"})
    assert term.foreign_policy_end(date(2025, 1, 31)) == date(2025, 2, 28)
    assert config.load({}).foreign_policy_end(date(2025, 3, 15)) == date(2025, 12, 31)


def test_small_reports_of_a_run_are_validated_together(settings, months_6, tmp_path, monkeypatch):
    """Two Great Expectations validations for all the small reports of a run, not two per
    file; each file keeps its own verdict (a refused payer, a rejected block) and outcome."""
    from pipelines.enrol import contributions
    from pipelines.validate import suite

    validations = []
    real = suite._validate
    monkeypatch.setattr(suite, "_validate", lambda *a: validations.append(1) or real(*a))
    monkeypatch.setattr(contributions, "_verdicts", type(contributions._verdicts)())
    good, broken = worker(1), worker(2)
    broken = dataclasses.replace(
        broken, snils=broken.snils[:-1] + str((int(broken.snils[-1]) + 1) % 10)
    )
    specs = [
        report(ACME, 2025, 1, [good, broken]),
        report(BETA, 2025, 1, [worker(3)]).with_wrong_inn_check_digit(),
        *(report(ACME, 2025 + year, quarter, [worker(4)]) for year, quarter in [(0, 2), (0, 3)]),
    ]
    files, _ = ingest(settings, tmp_path, specs)
    assert len(validations) == 2
    by_payer = sorted((f.status, f.accepted, f.rejected, tuple(f.codes)) for f in files)
    assert by_payer == [
        ("accepted", 1, 0, ()),
        ("accepted", 1, 0, ()),
        ("partially_accepted", 1, 1, ()),
        ("rejected", 0, 1, ("F010",)),
    ]
    rejected = next(f for f in files if f.status == "partially_accepted")
    assert [r["codes"] for r in receipt(rejected.receipt)["records"]] == [[], ["R001"]]


@pytest.mark.parametrize("damage", ["bad month", "overlong name"])
def test_schema_violation_met_after_batches_were_written_leaves_nothing_applied(
    settings, months_6, tmp_path, monkeypatch, damage
):
    # The schema is checked in the pass that reads the blocks; libxml2 reports a violation
    # only when the stream ends, so the batches are validated and written first, inside the
    # file's transaction, and undone with it. A name longer than its column breaks the write
    # first on PostgreSQL; the file is still refused for what the schema says.
    monkeypatch.setattr(contributions, "BATCH", 2)
    monkeypatch.setattr(contributions, "READ_AHEAD_BYTES", 0)  # the big-file path
    path = write_rsv(tmp_path, report(ACME, 2025, 1, [worker(n) for n in range(7)]))
    text = path.read_bytes().decode("cp1251")
    if damage == "bad month":
        at = text.rindex('Месяц="3"')
        text = text[:at] + 'Месяц="x"' + text[at + len('Месяц="3"') :]
    else:
        at = text.index('Фамилия="Каримов"', text.index("<ПерсСвСтрахЛиц"))
        text = text[:at] + 'Фамилия="' + "Ж" * 300 + '"' + text[at + len('Фамилия="Каримов"') :]
    path.write_bytes(text.encode("cp1251"))
    files, summary = run.ingest(config.load(), [path], as_of=date(2026, 3, 2))
    assert (files[0].status, files[0].codes) == ("rejected", ["F003"])
    assert ledger(settings) == {} and summary.accepted == 0
    with db.session_scope(settings) as session:
        assert session.query(ContributionReport).count() == 0


@pytest.mark.parametrize("copy_min", [1, 10**9], ids=["bulk", "by statement"])
def test_working_status_of_many_persons_is_set_in_one_go(settings, tmp_path, monkeypatch, copy_min):
    """The persons a report names are updated together (db.update_many: on PostgreSQL staged
    by COPY and one UPDATE … FROM, else a statement per row): each gets what it should."""
    from pipelines import cli
    from pipelines.identifiers import enp_compose
    from pipelines.register.models import Person, PersonHistory

    monkeypatch.setattr(db, "COPY_MIN_ROWS", copy_min)
    citizens = [worker(n, "НР", "643") for n in range(1, 6)]
    lines = ["enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status"]
    for n, citizen in enumerate(citizens, start=1):
        lines.append(
            f"{enp_compose('45', 0, date(1990, 5, 17), n)},{citizen.snils},Иванов{'а' * n},"
            "Иван,,1990-05-17,1,A01,active"
        )
    load = tmp_path / "register.csv"
    load.write_text("\n".join(lines) + "\n", "utf-8")
    assert cli.main(["register", "load", str(load)]) == 0
    ingest(settings, tmp_path, [report(ACME, 2025, 1, citizens[:4])])
    with db.session_scope(settings) as session:
        persons = {p.snils: p for p in session.query(Person)}
        got = {
            snils: (p.working, p.employer_inn, p.employer_kpp, p.employment_as_of, p.version)
            for snils, p in persons.items()
        }
        history = session.query(PersonHistory).filter_by(change="working_status_from_rsv").count()
    named = {c.snils for c in citizens[:4]}
    assert {s: v for s, v in got.items() if s in named} == {
        s: (True, ACME[1], ACME[2], date(2025, 3, 31), 2) for s in named
    }
    unnamed = got[citizens[4].snils]
    assert (unnamed[1], unnamed[4], history) == (None, 1, 4)
