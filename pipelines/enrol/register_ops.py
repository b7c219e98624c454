"""The register's write operations, shared by every feed and by the initial load.

Each operation writes the change and its history row with provenance (run, file, record) in the
caller's transaction; nothing here commits.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from pipelines.config import Settings
from pipelines.enrol import batched
from pipelines.identifiers import ENP_MAX_SERIAL, enp_compose
from pipelines.register.db import among, dialect_insert, insert_ignore, insert_rows
from pipelines.register.models import (
    EnpCounter,
    Insurer,
    InsurerAssignment,
    Notification,
    Person,
    PersonHistory,
    PersonKey,
    Policy,
)

log = logging.getLogger(__name__)
SHIPPED_INSURERS = Path(__file__).resolve().parents[1] / "data" / "insurers_demo.csv"
PERSON_FIELDS = (
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "citizenship",
    "birth_place",
    "residence",
    "working",
    "employer_inn",
    "employer_kpp",
    "insurer_code",
)


@dataclass(frozen=True)
class Provenance:
    """Where a change came from."""

    run_id: str | None
    file_id: int | None = None
    record_id: int | None = None


class EnpExhausted(RuntimeError):
    """All 10 × 9999 numbers of one region and birth date are used."""


# Latin letters that look like Cyrillic ones, typed into a Cyrillic name by a keyboard slip.
_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
# hyphens, dashes and the minus sign: "Иванова-Петрова" and "Иванова – Петрова" are one name
_DASHES = str.maketrans({c: " " for c in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_LATIN_LOOKALIKE = re.compile("[ABCEHKMOPTXY]")
_CYRILLIC = re.compile("[А-Я]")  # in upper case, Ё read as Е


def normalise_name(part: str | None) -> str:
    """One part of a full name as linking compares it: upper case, Ё as Е, hyphens and dashes as
    spaces, runs of spaces as one; in a word with Cyrillic letters, Latin look-alikes (the Latin
    "A" of a mistyped "Aнна") read as the Cyrillic letters they look like."""
    if not part:
        return ""
    upper = part.upper()
    words = upper.replace("Ё", "Е").translate(_DASHES).split()
    if _LATIN_LOOKALIKE.search(upper) is None:  # the common case: no look-alike to read again
        return " ".join(words)
    return " ".join(w.translate(_LOOKALIKES) if _CYRILLIC.search(w) else w for w in words)


def name_key(
    last: str | None, first: str | None, middle: str | None, birth: date | None
) -> str | None:
    """Normalised full name + birth date, for linking by demographics when no СНИЛС links.

    None without a last name, a first name and a complete birth date: too little to link on.
    """
    if not (last and first and birth):
        return None
    text = "|".join(normalise_name(p) for p in (last, first, middle))
    return f"{text}|{birth.isoformat()}"


def _snapshot(person: Person) -> dict:
    return snapshot({name: getattr(person, name) for name in PERSON_FIELDS})


def _history(
    session: Session, person: Person, change: str, prov: Provenance, decision: dict | None = None
) -> None:
    session.add(
        PersonHistory(
            person_id=person.id,
            version=person.version,
            change=change,
            data=with_decision(_snapshot(person), decision),
            run_id=prov.run_id,
            file_id=prov.file_id,
            record_id=prov.record_id,
            changed_at=datetime.now(UTC),
        )
    )


def create_person(
    session: Session, prov: Provenance, *, origin: str, included_on: date | None, **fields
) -> Person:
    person = Person(origin=origin, version=1, included_on=included_on, **fields)
    person.name_key = name_key(
        person.last_name, person.first_name, person.middle_name, person.birth_date
    )
    session.add(person)
    session.flush()
    _history(session, person, "created", prov)
    return person


def update_person(
    session: Session,
    person: Person,
    prov: Provenance,
    change: str,
    *,
    decision: dict | None = None,
    **fields,
) -> bool:
    """Apply the fields that differ; one history row when anything changed (naming the review
    decision that made the change, when one did)."""
    changed = {k: v for k, v in fields.items() if getattr(person, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(person, key, value)
    person.name_key = name_key(
        person.last_name, person.first_name, person.middle_name, person.birth_date
    )
    person.version += 1
    session.flush()
    _history(session, person, change, prov, decision)
    return True


def issue_enp(session: Session, region: str, birth_date: date) -> str:
    """The next free ЕНП for (region, birth date); never one that was issued or loaded before.

    The counter row is bumped with UPDATE … RETURNING, which row-locks it on PostgreSQL until the
    transaction ends (SQLite serialises writers outright), so concurrent runs never draw the same
    serial; the policies primary key is the last guard.
    """
    insert_ignore(
        session, EnpCounter.__table__, {"region": region, "birth_date": birth_date, "issued": 0}
    )
    while True:
        issued = session.execute(
            update(EnpCounter)
            .where(EnpCounter.region == region, EnpCounter.birth_date == birth_date)
            .values(issued=EnpCounter.issued + 1)
            .returning(EnpCounter.issued)
        ).scalar_one()
        duplicate_index, serial = divmod(issued - 1, ENP_MAX_SERIAL)
        if duplicate_index > 9:
            raise EnpExhausted(f"no ЕНП left for region {region} on one birth date")
        enp = enp_compose(region, duplicate_index, birth_date, serial + 1)
        if session.get(Policy, enp) is None:
            return enp


def reserve_enps(session: Session, region: str, birth_dates: list[date]) -> list[str]:
    """One new ЕНП for each birth date given, in order: the numbers :func:`issue_enp` would give
    one at a time, drawn for all the dates with a few statements — the counters created where
    missing, read locked (FOR UPDATE on PostgreSQL; SQLite has one writer), moved on at once,
    and the numbers a loaded register already holds skipped."""
    wanted = Counter(birth_dates)
    if not wanted:
        return []
    table = EnpCounter.__table__
    session.execute(
        dialect_insert(session, table).on_conflict_do_nothing(),
        [{"region": region, "birth_date": d, "issued": 0} for d in sorted(wanted)],
    )
    drawn: dict[date, list[str]] = {d: [] for d in wanted}
    need = dict(wanted)
    while need:
        issued: dict[date, int] = {}
        for chunk in batched(sorted(need), 5000):
            issued.update(
                session.execute(
                    select(table.c.birth_date, table.c.issued)
                    .where(table.c.region == region, among(session, table.c.birth_date, chunk))
                    .with_for_update()
                ).all()
            )
        fresh: dict[date, list[str]] = {}
        for birth_date, count in need.items():
            start = issued[birth_date]
            numbers = []
            for number in range(start + 1, start + count + 1):
                duplicate_index, serial = divmod(number - 1, ENP_MAX_SERIAL)
                if duplicate_index > 9:
                    raise EnpExhausted(f"no ЕНП left for region {region} on one birth date")
                numbers.append(enp_compose(region, duplicate_index, birth_date, serial + 1))
            fresh[birth_date] = numbers
        session.execute(
            update(table)
            .where(table.c.region == region, table.c.birth_date == bindparam("day"))
            .values(issued=bindparam("upto")),
            [{"day": d, "upto": issued[d] + count} for d, count in need.items()],
        )
        candidates = [enp for numbers in fresh.values() for enp in numbers]
        taken: set[str] = set()
        for chunk in batched(candidates, 5000):
            used = select(Policy.enp).where(among(session, Policy.enp, chunk))
            taken.update(session.scalars(used))
        for birth_date, numbers in fresh.items():
            drawn[birth_date] += [enp for enp in numbers if enp not in taken]
        need = {d: wanted[d] - len(drawn[d]) for d in wanted if len(drawn[d]) < wanted[d]}
    return [drawn[birth_date].pop(0) for birth_date in birth_dates]


@dataclass(frozen=True)
class Enrolment:
    """A person just written, and what their enrolment adds: the first history row, the policy,
    the insurer's assignment and its notification (:func:`write_enrolments`)."""

    person_id: int
    fields: dict  # the person's fields as written (PERSON_FIELDS)
    enp: str
    insurer_code: str
    basis: str  # mother_insurer | fund_share
    event: str  # enrolled_newborn | enrolled_foreign_worker
    valid_from: date
    valid_to: date | None
    reason: str  # newborn | foreign_worker
    file_id: int | None = None
    record_id: int | None = None
    decision: dict | None = None  # the review decision that enrolled the person, if one did


def write_enrolments(session: Session, run_id: str, on: date, made: list[Enrolment]) -> None:
    """What :func:`create_person`, :func:`issue_policy` and :func:`assign_insurer` write for one
    person, for many at once: one statement per table."""
    now = datetime.now(UTC)
    tables = (
        (PersonHistory, lambda e: {
            "person_id": e.person_id, "version": 1, "change": "created",
            "data": with_decision(snapshot(e.fields), e.decision), "run_id": run_id,
            "file_id": e.file_id, "record_id": e.record_id, "changed_at": now}),
        (Policy, lambda e: {
            "enp": e.enp, "person_id": e.person_id, "kind": "electronic", "status": "active",
            "valid_from": e.valid_from, "valid_to": e.valid_to, "issued_run_id": run_id,
            "issued_record_id": e.record_id, "reason": e.reason}),
        (InsurerAssignment, lambda e: {
            "person_id": e.person_id, "insurer_code": e.insurer_code, "assigned_on": on,
            "basis": e.basis, "run_id": run_id, "record_id": e.record_id}),
        (Notification, lambda e: {
            "run_id": run_id, "insurer_code": e.insurer_code, "person_id": e.person_id,
            "enp": e.enp, "event": e.event, "basis": e.basis, "record_id": e.record_id,
            "notice_file": None}),
    )  # fmt: skip
    for model, row in tables:
        insert_rows(session, model.__table__, [row(e) for e in made], returning=False)


def snapshot(fields: dict) -> dict:
    """A person's fields as a history row keeps them (dates as ISO text)."""
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name in PERSON_FIELDS
        for value in [fields.get(name)]
    }


def with_decision(data: dict, decision: dict | None) -> dict:
    """A history row's data, naming the review decision (id, who) that made the change."""
    return {**data, "review_decision": decision} if decision else data


def claim_keys(session: Session, kind: str, values: list[str]) -> set[str]:
    """Insert a key (no person yet) for each value not held yet, with one statement; the values
    this call inserted. The database lets one run win: a value another transaction holds is
    not returned (on PostgreSQL this waits until that transaction ends)."""
    table = PersonKey.__table__
    stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=["kind", "value"])
    rows = [{"kind": kind, "value": v, "person_id": None, "version": None} for v in values]
    got: set[str] = set()
    for start in range(0, len(rows), 5000):
        got.update(session.scalars(stmt.returning(table.c.value), rows[start : start + 5000]))
    return got


def remember_keys(
    session: Session, kind: str, keys: list[tuple[str, int | None, str | None, int]]
) -> None:
    """Record for each source key (value, person, version, record) the version applied last
    and the record it came from; a person once linked stays linked. One statement."""
    if not keys:
        return
    table = PersonKey.__table__
    stmt = dialect_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "value"],
        set_={
            "version": stmt.excluded.version,
            "record_id": stmt.excluded.record_id,
            "person_id": func.coalesce(table.c.person_id, stmt.excluded.person_id),
        },
    )
    session.execute(
        stmt,
        [
            {"kind": kind, "value": v, "person_id": p, "version": ver, "record_id": r}
            for v, p, ver, r in keys
        ],
    )


def issue_policy(
    session: Session,
    person: Person,
    prov: Provenance,
    *,
    region: str,
    valid_from: date,
    valid_to: date | None,
    reason: str,
) -> Policy:
    if person.birth_date is None:
        raise ValueError("an ЕНП needs a complete birth date")
    policy = Policy(
        enp=issue_enp(session, region, person.birth_date),
        person_id=person.id,
        kind="electronic",
        status="active",
        valid_from=valid_from,
        valid_to=valid_to,
        issued_run_id=prov.run_id,
        issued_record_id=prov.record_id,
        reason=reason,
    )
    session.add(policy)
    session.flush()
    return policy


def current_policy(session: Session, person_id: int, on: date | None = None) -> Policy | None:
    """The person's policy in force on a date (any date when None): active, within validity."""
    query = select(Policy).where(Policy.person_id == person_id, Policy.status == "active")
    if on is not None:
        query = query.where(
            or_(Policy.valid_from.is_(None), Policy.valid_from <= on),
            or_(Policy.valid_to.is_(None), Policy.valid_to >= on),
        )
    return session.scalars(query.order_by(Policy.valid_from.desc().nulls_last())).first()


def latest_policy(session: Session, person_id: int) -> Policy | None:
    query = select(Policy).where(Policy.person_id == person_id)
    return session.scalars(
        query.order_by(
            and_(Policy.status == "active").desc(), Policy.valid_from.desc().nulls_last()
        )
    ).first()


def assign_insurer(
    session: Session,
    person: Person,
    prov: Provenance,
    *,
    insurer_code: str,
    basis: str,
    on: date,
    enp: str,
    event: str,
) -> None:
    """Record the assignment, update the person, and queue a notification for the insurer."""
    session.add(
        InsurerAssignment(
            person_id=person.id,
            insurer_code=insurer_code,
            assigned_on=on,
            basis=basis,
            run_id=prov.run_id,
            record_id=prov.record_id,
        )
    )
    update_person(session, person, prov, "insurer_assigned", insurer_code=insurer_code)
    notify(session, person, prov, insurer_code=insurer_code, enp=enp, event=event, basis=basis)


def notify(
    session: Session,
    person: Person,
    prov: Provenance,
    *,
    insurer_code: str,
    enp: str,
    event: str,
    basis: str,
) -> None:
    session.add(
        Notification(
            run_id=prov.run_id,
            insurer_code=insurer_code,
            person_id=person.id,
            enp=enp,
            event=event,
            basis=basis,
            record_id=prov.record_id,
        )
    )


SHARE_SCALE = 10**12  # the share ledger counts in 10^-12 persons: exact on every backend


def share_increments(shares: dict[str, Decimal]) -> dict[str, int]:
    """Each insurer's quota growth per assignment, in SHARE_SCALE units, summing to exactly one
    person: the shares normalised, floored, and the units left over given by largest remainder
    (ties to the lowest code), so rounding never drifts the ledger."""
    total = sum(shares.values())
    exact = {code: share * SHARE_SCALE / total for code, share in shares.items()}
    units = {code: int(value) for code, value in exact.items()}
    left = SHARE_SCALE - sum(units.values())
    for code in sorted(exact, key=lambda c: (-(exact[c] - units[c]), c))[:left]:
        units[code] += 1
    return units


def choose_by_share(session: Session) -> str:
    """The insurer the fund assigns next (:func:`choose_by_share_many` of one)."""
    return choose_by_share_many(session, 1)[0]


def choose_by_share_many(session: Session, count: int) -> list[str]:
    """The insurers the fund assigns the next ``count`` people, in order, so that assignments
    follow the configured shares in fact.

    Every fund-determined assignment grows each active insurer's quota by its share; the next
    person goes to the insurer whose count lags its quota the most (ties: lowest code). Over any
    prefix of the fund's assignments each insurer stays within one person of its share, and when
    the shares change the ledger carries on from where it stood. Deterministic: the same
    assignments in the same order give the same insurers. The insurer rows are locked (in code
    order) for the rest of the caller's transaction, so concurrent runs take turns; the caller
    records each assignment with basis ``fund_share`` in the same transaction (``erzl check``
    I12). One read and one write of the ledger, however many people.
    """
    if count <= 0:
        return []
    insurers = list(session.scalars(select(Insurer).order_by(Insurer.code).with_for_update()))
    active = {i.code: Decimal(i.share) for i in insurers if i.active and Decimal(i.share) > 0}
    if not active:
        raise LookupError("no active insurer with a positive share is configured (ERZL_INSURERS)")
    units = share_increments(active)
    ledger = [i for i in insurers if i.code in units]
    deficit = {i.code: i.share_deficit or 0 for i in ledger}
    picks: list[str] = []
    for _ in range(count):
        chosen = None
        for insurer in ledger:  # in code order: on a tie the lowest code stays chosen
            deficit[insurer.code] += units[insurer.code]
            if chosen is None or deficit[insurer.code] > deficit[chosen]:
                chosen = insurer.code
        deficit[chosen] -= SHARE_SCALE
        picks.append(chosen)
    taken = Counter(picks)
    for insurer in ledger:
        insurer.share_deficit = deficit[insurer.code]
        insurer.share_count = (insurer.share_count or 0) + taken[insurer.code]
    return picks


def sync_insurers(session: Session, settings: Settings) -> list[Insurer]:
    """Make the table match ERZL_INSURERS (``code,name,share``): listed insurers active with
    their shares, others inactive (kept: past assignments name them).

    Without ERZL_INSURERS the list shipped for the demo is used, with a warning.
    """
    source = settings.insurers_csv
    if source is None:
        log.warning(
            "ERZL_INSURERS is not set: people are assigned to the DEMO insurers shipped with "
            "the package"
        )
        source = SHIPPED_INSURERS
    existing = {i.code: i for i in session.scalars(select(Insurer))}
    rows = _read_insurers(source)
    for code, name, share in rows:
        insurer = existing.get(code)
        if insurer is None:  # two first runs at once may both add it: the key decides
            values = {"code": code, "name": name, "share": share, "active": True}
            insert_ignore(session, Insurer.__table__, values)
            insurer = session.get(Insurer, code, populate_existing=True)
            insurer.name, insurer.share, insurer.active = name, share, True
            existing[code] = insurer
        else:
            insurer.name, insurer.share, insurer.active = name, share, True
    listed = {code for code, _, _ in rows}
    for code, insurer in existing.items():
        if code not in listed:
            insurer.active = False
    session.flush()
    return list(existing.values())


def _read_insurers(path: Path) -> list[tuple[str, str, Decimal]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"code", "name", "share"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {sorted(missing)}")
        rows = []
        for line in reader:
            share = Decimal(line["share"].strip())
            if share < 0:
                raise ValueError(f"{path.name}: negative share for {line['code']}")
            rows.append((line["code"].strip(), line["name"].strip(), share))
    if not rows:
        raise ValueError(f"{path.name}: no insurers")
    return rows


def ensure_insurer(session: Session, code: str) -> None:
    """An insurer named by loaded data but not configured: kept, inactive, with no share."""
    if session.get(Insurer, code) is None:
        session.add(Insurer(code=code, name=code, share=0, active=False))
        session.flush()
