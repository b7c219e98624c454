"""Employer contribution reports → the contribution ledger, working status, and policies for
foreign workers who have become entitled (DOMAIN.md §3, §4.2).

Per file: the report's person blocks are applied to the ledger — a correction replaces what the
payer filed earlier for the persons it lists, an annulment block removes that person's months,
a correction number at or below the applied one changes nothing. Once per run, after every file:
eligibility is evaluated over the whole ledger.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
from collections import Counter, OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session

from pipelines import faults
from pipelines.codes import Outcome, decide
from pipelines.config import Settings
from pipelines.enrol import batched
from pipelines.enrol.register_ops import (
    PERSON_FIELDS,
    Enrolment,
    Provenance,
    choose_by_share_many,
    latest_policy,
    name_key,
    notify,
    reserve_enps,
    snapshot,
    update_person,
    write_enrolments,
)
from pipelines.identifiers import snils_normalize
from pipelines.parse.xmlsafe import FileError
from pipelines.records import InsuredPerson, RsvHeader
from pipelines.register.db import among, insert_many, insert_rows, update_many, upsert
from pipelines.register.models import (
    ContributionMonth,
    ContributionReport,
    FileContent,
    ForeignEligibility,
    Person,
    PersonHistory,
    ReceivedFile,
    ReceivedRecord,
    ReportedPerson,
)
from pipelines.validate import docs as validation_docs
from pipelines.validate.rsv import FileVerdict

log = logging.getLogger(__name__)

FOREIGN_STAYING_PREFIX = "ВП"  # КодКатЛиц of foreigners temporarily staying in Russia
BATCH = 10_000  # person blocks validated and applied together: memory is bounded by this
# Reports up to this size are validated together with the other small reports of their run
# that wait to be applied: two Great Expectations validations for all of them, where each
# costs ~50 ms whatever its size, instead of two per file (_read_ahead).
READ_AHEAD_BYTES = 4 * 1024 * 1024
_VERDICTS_KEPT = 1024
# file content (sha256) → its verdict; content-addressed, so a retry or another run of the same
# file in this process finds it again
_verdicts: OrderedDict[str, FileVerdict] = OrderedDict()


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


def calendar_month(year: int, quarter: int, month_in_quarter: int) -> str:
    return f"{year:04d}-{(quarter - 1) * 3 + month_in_quarter:02d}"


def apply_rsv(
    session: Session, settings: Settings, run_id: str, as_of: date, row: ReceivedFile, path: Path
) -> Counter:
    from pipelines.parse.rsv import iter_checked_persons, read_header, validate_structure
    from pipelines.parse.rsv_versions import rules_for
    from pipelines.validate.rsv import validate_rsv_header, validate_rsv_persons

    # The blocks are read once, the schema checked as they are (iter_checked_persons): a file
    # that breaks it is refused when its last block has been read, and what was written for it
    # is undone with the file's transaction. The header comes first; what the schema says of a
    # file comes before what reading its header met.
    try:
        header = read_header(path)
        rules_for(header.form_version)  # F014 for a version not read (5.01–5.08 are)
        if header.period_code not in _quarters():
            raise FileError("F012", "period code not supported")
    except FileError:
        validate_structure(path)
        raise
    verdict = _read_ahead(session, row, path)
    if verdict is None:
        file_codes = validate_rsv_header(header)
    else:
        file_codes = list(verdict.header_codes)
        validation_docs.collect(verdict.header_docs)
    if Path(row.name).stem != header.file_id:
        row.codes = [*(row.codes or []), "F006"]
    counts: Counter = Counter()
    if file_codes:  # the payer itself is wrong: the whole file is refused, each block says why
        _record_all(session, row, iter_checked_persons(path), Outcome.REJECTED, file_codes, counts)
        row.status, row.codes = "rejected", [*row.codes, *file_codes]
        return counts

    key = (header.payer_inn, header.payer_kpp or "", header.year, header.quarter)
    applied = session.get(ContributionReport, key)
    if applied is not None and header.correction_no <= applied.correction_no:
        _record_all(session, row, iter_checked_persons(path), Outcome.DUPLICATE, ["F013"], counts)
        row.status, row.codes = "duplicate", [*row.codes, "F013"]
        return counts
    upsert(
        session,
        ContributionReport.__table__,
        [
            {
                "payer_inn": key[0],
                "payer_kpp": key[1],
                "year": key[2],
                "quarter": key[3],
                "correction_no": header.correction_no,
                "period_code": header.period_code,
                "document_date": header.document_date,
                "file_id": row.id,
            }
        ],
        ["payer_inn", "payer_kpp", "year", "quarter"],
    )
    seen: set[str] = set()
    # persons whose earlier months for this report were already cleared by this file: a person
    # in two blocks of one file has both blocks' months, not only the last one's
    cleared: set[str] = set() if applied is not None else None
    # read once, in batches: each batch is validated by one suite run, then applied
    for persons in batched(iter_checked_persons(path), BATCH):
        if verdict is None:
            codes_by_seq = validate_rsv_persons(persons, chunk_size=None)
        else:  # the whole file's, found when it was validated with others
            codes_by_seq = verdict.person_codes
            if verdict.person_docs is not None:
                validation_docs.collect(verdict.person_docs)
                verdict = dataclasses.replace(verdict, person_docs=None)  # once per file
        batch: list[tuple[InsuredPerson, list[str]]] = []
        for person in persons:
            faults.point("apply.record")
            codes = list(codes_by_seq.get(person.seq, ()))
            snils = snils_normalize(person.snils) if person.snils else None
            accepted = decide(codes) == Outcome.ACCEPTED
            if accepted and snils in seen:
                codes.append("R005")
            if accepted and person.annulled:
                codes.append("R003")
            if accepted:
                seen.add(snils)
            batch.append((person, codes))
        _apply_batch(session, header, key, row, batch, counts, cleared)
    return counts


def _read_ahead(session: Session, row: ReceivedFile, path: Path) -> FileVerdict | None:
    """The verdict of the rules on a small report, validated together with the other small
    reports of its run still waiting to be applied (up to READ_AHEAD_BYTES in all); None for
    a big report, which is validated a batch at a time as it is applied. Only the rules' codes
    are shared: each file is still applied, and its outcome decided, in its own transaction.
    A report that cannot be read is left out, to be refused when it is applied."""
    from pipelines.parse.rsv import iter_persons, read_header
    from pipelines.validate.rsv import validate_rsv_files

    if row.sha256 in _verdicts:
        _verdicts.move_to_end(row.sha256)
        return _verdicts[row.sha256]
    if path.stat().st_size > READ_AHEAD_BYTES:
        return None
    waiting = session.execute(
        select(ReceivedFile.sha256, FileContent.archive_path)
        .join(FileContent, FileContent.sha256 == ReceivedFile.sha256)
        .where(
            ReceivedFile.run_id == row.run_id,
            ReceivedFile.feed == "fns_rsv",
            ReceivedFile.state == "received",
            ReceivedFile.duplicate_of.is_(None),
            ReceivedFile.id != row.id,
        )
        .order_by(ReceivedFile.id)
    ).all()
    files: dict[str, tuple[RsvHeader, list[InsuredPerson]]] = {}
    budget = READ_AHEAD_BYTES
    for sha256, archived in [(row.sha256, str(path)), *waiting]:
        other = Path(archived)
        if sha256 in files or sha256 in _verdicts or not other.is_file():
            continue
        size = other.stat().st_size
        if size > budget:
            continue
        try:
            files[sha256] = (read_header(other), list(iter_persons(other)))
        except FileError:  # refused when it is applied, with its reason
            continue
        budget -= size
    verdicts = validate_rsv_files(files)
    if verdicts is None or row.sha256 not in verdicts:
        return None
    _verdicts.update(verdicts)
    while len(_verdicts) > _VERDICTS_KEPT:
        _verdicts.popitem(last=False)
    return verdicts[row.sha256]


def _quarters() -> set[str]:
    from pipelines.records import PERIOD_QUARTER

    return set(PERIOD_QUARTER)


def _record_all(session, row, persons, outcome: Outcome, codes: list[str], counts: Counter):
    rows = []
    for person in persons:
        rows.append(_record_row(row.id, person, str(outcome), codes))
        if len(rows) >= BATCH:
            insert_rows(session, ReceivedRecord.__table__, rows, returning=False)
            rows = []
        counts[str(outcome)] += 1
    if rows:
        insert_rows(session, ReceivedRecord.__table__, rows, returning=False)


def _record_row(file_id: int, person: InsuredPerson, outcome: str, codes: list[str]) -> dict:
    snils = snils_normalize(person.snils) if person.snils else None
    return {
        "file_id": file_id,
        "seq": person.seq,
        "record_key": snils or (person.snils or "")[:64] or f"#{person.seq}",
        "outcome": outcome,
        "codes": list(codes),
    }


def _apply_batch(
    session: Session,
    header: RsvHeader,
    key: tuple,
    row: ReceivedFile,
    batch: list[tuple[InsuredPerson, list[str]]],
    counts: Counter,
    cleared: set[str] | None,
) -> None:
    """Journal a batch of person blocks and apply the accepted ones to the ledger.

    ``cleared`` is None for a payer's first report of the quarter; for a correction it holds
    the persons whose earlier months this file has already removed.
    """
    if not batch:
        return
    records: list[dict] = []
    months: dict[tuple, dict] = {}
    reported: dict[str, dict] = {}
    accepted_snils = []
    period_end = quarter_end(header.year, header.quarter)
    for person, codes in batch:
        records.append(_record_row(row.id, person, str(decide(codes)), codes))
    # the records' ids, in order: each ledger month and reported person names the block it
    # came from, so a person enrolled from them can show the file and record (provenance)
    record_ids = insert_rows(session, ReceivedRecord.__table__, records)
    for (person, codes), record_id in zip(batch, record_ids, strict=True):
        outcome = decide(codes)
        counts[str(outcome)] += 1
        if outcome != Outcome.ACCEPTED:
            continue
        snils = snils_normalize(person.snils)
        accepted_snils.append(snils)
        if person.annulled:
            continue
        for month in _ledger_rows(header, key, snils, person):
            month["record_id"] = record_id
            _merge_month(months, month)
        reported[snils] = {
            **_reported_row(header, key, snils, person, period_end),
            "record_id": record_id,
        }
    to_clear = [] if cleared is None else sorted(set(accepted_snils) - cleared)
    if to_clear:  # a correction replaces what was filed before for the persons it lists
        session.execute(
            delete(ContributionMonth).where(
                ContributionMonth.payer_inn == key[0],
                ContributionMonth.payer_kpp == key[1],
                ContributionMonth.year == key[2],
                ContributionMonth.quarter == key[3],
                among(session, ContributionMonth.snils, to_clear),
            )
        )
        cleared.update(to_clear)
    _add_months(session, list(months.values()))
    upsert(
        session,
        ReportedPerson.__table__,
        list(reported.values()),
        ["snils"],
        where=lambda table, new: table.c.period_end <= new.period_end,
        # reports before 5.08 may leave the birth date and document out: what an earlier
        # report said stays known
        keep=("birth_date", "document_kind", "document_number"),
    )
    _update_working_status(session, header, key, row, list(reported), period_end)


def _merge_month(months: dict[tuple, dict], month: dict) -> None:
    """Two blocks of one person in one file: their payments of a month add up."""
    k = (month["snils"], month["month"])
    if k not in months:
        months[k] = month
        return
    into = months[k]
    into["amount"] += month["amount"]
    for field in ("base", "contributions"):
        if month[field] is not None:
            into[field] = (into[field] or Decimal(0)) + month[field]
    if month["counts_for_foreign"]:
        into["counts_for_foreign"] = True
        into["insured_category"] = month["insured_category"]


def _add_months(session: Session, rows: list[dict]) -> None:
    """Insert ledger rows; a row already written by an earlier batch of this file adds up."""
    if not rows:
        return
    table = ContributionMonth.__table__
    keys = [c.name for c in table.primary_key.columns]

    def build(stmt):
        new = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=keys,
            set_={
                "amount": table.c.amount + new.amount,
                "base": func.coalesce(table.c.base, 0) + func.coalesce(new.base, 0),
                "contributions": func.coalesce(table.c.contributions, 0)
                + func.coalesce(new.contributions, 0),
                "counts_for_foreign": or_(table.c.counts_for_foreign, new.counts_for_foreign),
                "insured_category": case(
                    (new.counts_for_foreign, new.insured_category), else_=table.c.insured_category
                ),
                "correction_no": new.correction_no,
            },
        )

    insert_many(session, table, rows, keys, build)


def _ledger_rows(header: RsvHeader, key: tuple, snils: str, person: InsuredPerson) -> list[dict]:
    """One row per month: payments of one month are summed; the month counts toward a foreign
    worker's term when any payment in it is of a ВП category and not zero."""
    by_month: dict[int, dict] = {}
    for payment in person.payments:
        month = by_month.setdefault(
            payment.month,
            {
                "payer_inn": key[0],
                "payer_kpp": key[1],
                "year": key[2],
                "quarter": key[3],
                "snils": snils,
                "month": payment.month,
                "insured_category": payment.insured_category,
                "amount": Decimal(0),
                "base": None,
                "contributions": None,
                "counts_for_foreign": False,
                "correction_no": header.correction_no,
            },
        )
        month["amount"] += payment.amount
        for field in ("base", "contributions"):
            value = getattr(payment, field)
            if value is not None:
                month[field] = (month[field] or Decimal(0)) + value
        staying = payment.insured_category.startswith(FOREIGN_STAYING_PREFIX)
        if staying and payment.amount != 0:
            month["counts_for_foreign"] = True
            month["insured_category"] = payment.insured_category
    return list(by_month.values())


def _reported_row(header, key, snils: str, person: InsuredPerson, period_end: date) -> dict:
    def text(value):
        return value if isinstance(value, str) and value.strip() else None

    return {
        "snils": snils,
        "inn": person.inn,
        "last_name": text(person.name.last_name),
        "first_name": text(person.name.first_name),
        "middle_name": text(person.name.middle_name),
        "birth_date": person.birth_date,
        "citizenship": person.citizenship,
        "sex": person.sex,
        "document_kind": person.document_kind,
        "document_number": person.document_number,
        "payer_inn": key[0],
        "payer_kpp": key[1],
        "period_end": period_end,
        "record_id": None,
    }


def _update_working_status(session, header, key, row, snils_list, period_end: date) -> None:
    """Insured persons the report names: working, with this employer, if it is the latest.

    What ``update_person`` does for one person, for the batch at once: the persons read with
    one query, those that change updated with one statement, one history row each."""
    if not snils_list:
        return
    now = {
        "working": True,
        "employer_inn": key[0],
        "employer_kpp": key[1] or None,
        "employment_as_of": period_end,
    }
    table = Person.__table__
    columns = [table.c.id, table.c.version, table.c.employment_as_of]
    columns += [table.c[name] for name in PERSON_FIELDS if name not in ("id", "version")]
    updates, history = [], []
    stamp = datetime.now(UTC)
    for chunk in batched(sorted(set(snils_list)), 5000):
        for person in session.execute(select(*columns).where(among(session, table.c.snils, chunk))):
            current = person._mapping
            if current["employment_as_of"] is not None and current["employment_as_of"] > period_end:
                continue
            if all(current[k] == v for k, v in now.items()):
                continue
            version = current["version"] + 1
            updates.append({"id": current["id"], "version": version, **now})
            history.append(
                {
                    "person_id": current["id"],
                    "version": version,
                    "change": "working_status_from_rsv",
                    "data": snapshot({**dict(current), **now}),
                    "run_id": row.run_id,
                    "file_id": row.id,
                    "record_id": None,
                    "changed_at": stamp,
                }
            )
    if updates:
        update_many(session, table, updates)
        insert_rows(session, PersonHistory.__table__, history, returning=False)
        changed = {u["id"] for u in updates}
        for obj in list(session.identity_map.values()):  # no stale copy outlives the update
            if isinstance(obj, Person) and obj.id in changed:
                session.expire(obj)


# --- once per run -----------------------------------------------------------------------------


def evaluate_eligibility(session: Session, settings: Settings, run_id: str, as_of: date) -> Counter:
    """Enrol every foreign worker whose counted months reach the threshold in force on ``as_of``.

    A worker already enrolled is measured against the threshold that enrolled them: a later,
    higher threshold applies to new enrolments, it does not take a policy back. One who falls
    below it (an annulment, a correction) is put up for review, never revoked. A lapsed worker
    whose contributions resume after the lapse gets the policy back under the same ЕНП.
    Returns the run's end-of-run totals.
    """
    threshold = settings.foreign_min_months(as_of)
    rule = settings.foreign_rule_label(as_of)
    counts: Counter = Counter()
    entitled: list[tuple[ForeignEligibility, bool]] = []
    months_by_snils = _counted_months(session)
    known = {e.snils: e for e in session.scalars(select(ForeignEligibility))}
    counting: list[dict] = []  # workers met for the first time and still short of the term
    for snils in sorted(set(months_by_snils) | set(known)):
        months = months_by_snils.get(snils, [])
        entry = known.get(snils)
        if entry is None and len(months) < threshold:
            counting.append(
                {
                    "snils": snils,
                    "person_id": None,
                    "months": months,
                    "months_count": len(months),
                    "threshold": threshold,
                    "rule": rule,
                    "status": "counting",
                    "evaluated_on": as_of,
                    "run_id": run_id,
                }
            )
            continue
        if entry is None:
            entry = ForeignEligibility(snils=snils, status="counting")
            session.add(entry)
        entry.months, entry.months_count = months, len(months)
        entry.evaluated_on, entry.run_id = as_of, run_id
        if entry.status in ("enrolled", "review", "lapsed"):
            _recheck_enrolled(session, settings, run_id, as_of, entry, counts)
            continue
        entry.threshold, entry.rule = threshold, rule
        eligible = len(months) >= threshold
        if entry.status in ("counting", "held") and eligible:
            entitled.append((entry, entry.status == "held"))
        elif entry.status == "held" and not eligible:
            entry.status = "counting"
    # what an entry of the ORM would have become, written with one statement
    insert_rows(session, ForeignEligibility.__table__, counting, returning=False)
    # the entitled are enrolled together, in СНИЛС order (the order the ledger assigns them in)
    for batch in batched(entitled, 5000):
        _enrol_workers(session, settings, run_id, as_of, [entry for entry, _ in batch])
        for entry, was_held in batch:
            if entry.status == "enrolled":
                counts["enrolled"] += 1
                counts["policies_issued"] += 1
            elif entry.status == "held" and not was_held:
                counts["review"] += 1
    session.flush()
    return counts


def _recheck_enrolled(
    session: Session,
    settings: Settings,
    run_id: str,
    as_of: date,
    entry: ForeignEligibility,
    counts: Counter,
) -> None:
    still = entry.months_count >= entry.threshold
    if entry.status == "enrolled" and not still:
        entry.status = "review"
        counts["review"] += 1
        log.warning("an enrolled foreign worker fell below the threshold: held for review")
    elif entry.status == "review" and still:
        entry.status = "enrolled"
    elif entry.status == "lapsed" and still:
        policy = latest_policy(session, entry.person_id) if entry.person_id else None
        resumed = (
            policy is not None
            and policy.valid_to is not None
            and any(month > f"{policy.valid_to:%Y-%m}" for month in entry.months)
        )
        if resumed:
            _reactivate(session, settings, run_id, as_of, entry, policy)
            counts["reactivated"] += 1


def _reactivate(session, settings: Settings, run_id, as_of: date, entry, policy) -> None:
    """Contributions resumed after a lapse: the same ЕНП, valid again for a term."""
    person = session.get(Person, entry.person_id)
    prov = Provenance(run_id)
    policy.status, policy.valid_from = "active", as_of
    policy.valid_to = settings.foreign_policy_end(as_of)
    update_person(session, person, prov, "policy_reactivated", working=True)
    if person.insurer_code:
        notify(
            session,
            person,
            prov,
            insurer_code=person.insurer_code,
            enp=policy.enp,
            event="policy_renewed",
            basis="previous_insurer",
        )
    entry.status = "enrolled"


def _counted_months(session: Session) -> dict[str, list[str]]:
    """СНИЛС → the distinct calendar months, across all payers, that count toward the term."""
    query = (
        select(
            ContributionMonth.snils,
            ContributionMonth.year,
            ContributionMonth.quarter,
            ContributionMonth.month,
        )
        .where(ContributionMonth.counts_for_foreign.is_(True))
        .distinct()
    )
    months: dict[str, set[str]] = {}
    for snils, year, quarter, month in session.execute(query):
        months.setdefault(snils, set()).add(calendar_month(year, quarter, month))
    return {snils: sorted(values) for snils, values in months.items()}


def enrol_held_worker(
    session: Session,
    settings: Settings,
    run_id: str,
    as_of: date,
    entry: ForeignEligibility,
    *,
    waive: frozenset[str],
    source: tuple[int, int],
    decision: dict,
) -> str:
    """Resolve mode, for the review queue: enrol one held worker exactly as the end of a run
    does, with the codes an analyst accepted (``waive``: R007) set aside; the history, policy,
    assignment and notification point at ``source`` (file id, record id) and the history names
    ``decision``. Returns the entry's status now: ``enrolled``, or why not (held, insured,
    counting when the months no longer reach the threshold)."""
    if entry.months_count < entry.threshold:
        return "counting"
    _enrol_workers(
        session, settings, run_id, as_of, [entry], waive=waive, source=source, decision=decision
    )
    return entry.status


def keep_enrolled_worker(entry: ForeignEligibility, decision_id: int) -> None:
    """Resolve mode: an analyst keeps the policy of a worker who fell below the threshold that
    enrolled them (R004). They are measured from now on against the months they have: a further
    fall holds them again, and renewal decides at the end of the term as for anyone."""
    entry.status, entry.threshold = "enrolled", entry.months_count
    entry.rule = f"{entry.rule}; kept by review decision {decision_id}"[:200]


def _enrol_workers(
    session: Session,
    settings: Settings,
    run_id: str,
    as_of: date,
    entries: list,
    *,
    waive: frozenset[str] = frozenset(),
    source: tuple[int, int] | None = None,
    decision: dict | None = None,
) -> None:
    """Enrol entitled workers, setting each entry's status (enrolled, insured, held): the
    register and the reported data read for all of them at once, the insurers by share and the
    ЕНП drawn for all, persons, history, policies, assignments and notifications written with
    one statement each. ``waive``, ``source`` and ``decision``: :func:`enrol_held_worker`."""
    wanted = [entry.snils for entry in entries]
    registered = select(Person.snils, Person.id).where(among(session, Person.snils, wanted))
    existing = dict(session.execute(registered).all())
    reported = {
        r.snils: r
        for r in session.scalars(
            select(ReportedPerson).where(among(session, ReportedPerson.snils, wanted))
        )
    }
    enrol = []
    for entry in entries:
        data = reported.get(entry.snils)
        if entry.snils in existing:  # already insured: a citizen, or enrolled another way
            entry.person_id, entry.status = existing[entry.snils], "insured"
        elif data is None or data.birth_date is None:
            entry.rule, entry.status = f"{entry.rule}; held: R008", "held"
        elif data.citizenship == "643" and "R007" not in waive:
            entry.rule, entry.status = f"{entry.rule}; held: R007", "held"
        else:
            enrol.append((entry, data))
    if not enrol:
        return
    insurers = choose_by_share_many(session, len(enrol))
    enps = reserve_enps(session, settings.region, [data.birth_date for _, data in enrol])
    fields = [
        {
            "snils": entry.snils,
            "last_name": data.last_name,
            "first_name": data.first_name,
            "middle_name": data.middle_name,
            "birth_date": data.birth_date,
            "sex": data.sex,
            "citizenship": data.citizenship,
            "birth_place": None,
            "residence": None,
            "working": True,
            "employer_inn": data.payer_inn,
            "employer_kpp": data.payer_kpp or None,
            "insurer_code": code,
        }
        for (entry, data), code in zip(enrol, insurers, strict=True)
    ]
    person_ids = insert_rows(
        session,
        Person.__table__,
        [
            {
                **f,
                "origin": "fns_rsv",
                "version": 1,
                "included_on": as_of,
                "employment_as_of": data.period_end,
                "name_key": name_key(
                    f["last_name"], f["first_name"], f["middle_name"], f["birth_date"]
                ),
            }
            for f, (_, data) in zip(fields, enrol, strict=True)
        ],
    )
    valid_to = settings.foreign_policy_end(as_of)
    # where the enrolment came from: the record the analyst accepted, else the latest report
    # of the person's data (what the person was made from), so the history names a file
    reported_ids = [data.record_id for _, data in enrol if data.record_id is not None]
    file_of = dict(
        session.execute(
            select(ReceivedRecord.id, ReceivedRecord.file_id).where(
                among(session, ReceivedRecord.id, reported_ids)
            )
        ).all()
    )
    sources = [source or (file_of.get(data.record_id), data.record_id) for _, data in enrol]
    write_enrolments(
        session,
        run_id,
        as_of,
        [
            Enrolment(
                person_id=pid,
                fields=f,
                enp=enp,
                insurer_code=f["insurer_code"],
                basis="fund_share",
                event="enrolled_foreign_worker",
                valid_from=as_of,
                valid_to=valid_to,
                reason="foreign_worker",
                file_id=file_id,
                record_id=record_id,
                decision=decision,
            )
            for f, pid, enp, (file_id, record_id) in zip(
                fields, person_ids, enps, sources, strict=True
            )
        ],
    )
    for (entry, _), pid in zip(enrol, person_ids, strict=True):
        entry.person_id, entry.status = pid, "enrolled"


def ledger_size(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ContributionMonth))
