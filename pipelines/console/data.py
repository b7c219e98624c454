"""What the console's pages show, read from the register with set queries.

Every function returns plain values, already masked by field type (:mod:`pipelines.privacy`):
file names, act numbers, ЕНП and reason codes are shown as they are; a СНИЛС, a name, a birth
date, a document or an address never leaves this module unmasked. The pages
(:mod:`pipelines.console.pages`) only lay these values out.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, case, cast, func, select
from sqlalchemy.orm import Session

from pipelines.codes import CATALOGUE, Outcome, reason
from pipelines.emit.model import OUTCOME_KEYS
from pipelines.emit.report import duration_seconds
from pipelines.privacy import mask_fields, mask_record_key
from pipelines.register.models import (
    FileContent,
    ForeignEligibility,
    InsurerAssignment,
    Notification,
    Person,
    PersonHistory,
    PersonKey,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)

OUTCOMES = OUTCOME_KEYS
RUNS_SHOWN = 200  # the runs index: newest first, this many
FILES_SHOWN = 500  # a sender's files, newest first
RECORDS_SHOWN = 1000  # the records of a file listed with their codes


def rule_text(code: str) -> dict[str, str]:
    r = reason(code) if code in CATALOGUE else None
    return {
        "code": code,
        "en": r.text if r else "unknown code",
        "ru": r.text_ru if r else "неизвестный код",
        "outcome": (r.outcome or "") if r else "",
        "severity": r.severity if r else "",
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def _outcome_columns():
    r = ReceivedRecord
    return [func.sum(case((r.outcome == o, 1), else_=0)).label(o) for o in OUTCOMES]


def _counts(row) -> dict[str, int]:
    """Counts by outcome from a row of :func:`_outcome_columns` (None: nothing received)."""
    counts = {o: int(getattr(row, o, 0) or 0) for o in OUTCOMES}
    counts["received"] = sum(counts.values())
    return counts


# --- runs -------------------------------------------------------------------------------------


@dataclass
class RunRow:
    id: str
    trigger: str
    status: str
    as_of: date
    started_at: datetime
    finished_at: datetime | None
    duration: float | None
    files: int
    counts: dict[str, int]
    enrolled: int
    feeds: list[str]


def runs(session: Session, limit: int = RUNS_SHOWN, only: list[str] | None = None) -> list[RunRow]:
    """The newest runs (or those ``only`` names), with their files and records counted by
    outcome."""
    query = select(Run).order_by(Run.started_at.desc()).limit(limit)
    listed = session.scalars(query.where(Run.id.in_(only)) if only is not None else query).all()
    ids = [run.id for run in listed]
    f, r = ReceivedFile, ReceivedRecord
    by_run = {
        row.run_id: row
        for row in session.execute(
            select(f.owner_run_id.label("run_id"), *_outcome_columns())
            .join(r, r.file_id == f.id)
            .where(f.owner_run_id.in_(ids))
            .group_by(f.owner_run_id)
        )
    }
    files = Counter()
    feeds: dict[str, set[str]] = defaultdict(set)
    for run_id, feed, n in session.execute(
        select(f.owner_run_id, f.feed, func.count())
        .where(f.owner_run_id.in_(ids))
        .group_by(f.owner_run_id, f.feed)
    ):
        files[run_id] += n
        feeds[run_id].add(feed or "unknown")
    enrolled = dict(
        session.execute(
            select(Policy.issued_run_id, func.count())
            .where(Policy.issued_run_id.in_(ids), Policy.reason != "register_load")
            .group_by(Policy.issued_run_id)
        ).all()
    )
    out = []
    for run in listed:
        row = by_run.get(run.id)
        counts = _counts(row)
        out.append(
            RunRow(
                id=run.id,
                trigger=run.trigger,
                status=run.status,
                as_of=run.as_of,
                started_at=run.started_at,
                finished_at=run.finished_at,
                duration=_rounded(duration_seconds(run.started_at, run.finished_at)),
                files=files.get(run.id, 0),
                counts=counts,
                enrolled=int(enrolled.get(run.id, 0)),
                feeds=sorted(feeds.get(run.id, ())),
            )
        )
    return out


# --- one run ----------------------------------------------------------------------------------


@dataclass
class FileRow:
    id: int
    name: str
    feed: str
    sender: str | None
    format: str | None
    status: str
    state: str
    file_codes: list[dict[str, str]]
    detail: str | None
    counts: dict[str, int]
    receipt_name: str | None
    run_id: str  # the run that applied it (or took it over)
    received_at: datetime | None
    received_run_id: str = ""  # the run that received it: where its Data Docs page is kept
    duplicate_of: int | None = None


def _file_rows(session: Session, where, limit: int | None = None) -> list[FileRow]:
    f, r = ReceivedFile, ReceivedRecord
    query = select(f).where(where).order_by(f.received_at.desc(), f.id.desc())
    files = session.scalars(query.limit(limit) if limit else query).all()
    ids = [row.id for row in files]
    counted = {
        row.file_id: row
        for row in session.execute(
            select(r.file_id, *_outcome_columns()).where(r.file_id.in_(ids)).group_by(r.file_id)
        )
    }
    out = []
    for row in files:
        c = counted.get(row.id)
        out.append(
            FileRow(
                id=row.id,
                name=row.name,
                feed=row.feed or "unknown",
                sender=row.sender,
                format=row.format,
                status=row.status,
                state=row.state,
                file_codes=[rule_text(code) for code in dict.fromkeys(row.codes or ())],
                detail=row.detail,
                counts=_counts(c),
                receipt_name=row.receipt_name,
                run_id=row.owner_run_id or row.run_id,
                received_at=row.received_at,
                received_run_id=row.run_id,
                duplicate_of=row.duplicate_of,
            )
        )
    return out


def rule_counts(session: Session, where) -> list[dict[str, Any]]:
    """Each reason code's count over the files ``where`` selects: a record-level code once per
    record that carries it, a file-level code (F…) once per file — never once per record."""
    f, r = ReceivedFile, ReceivedRecord
    counts: Counter = Counter()
    codes_text = cast(r.codes, Text)  # PostgreSQL's json has no equality to group by
    for text, n in session.execute(
        select(codes_text, func.count())
        .join(f, f.id == r.file_id)
        .where(where)
        .group_by(codes_text)
    ):
        for code in dict.fromkeys(json.loads(text) if text else ()):
            if not code.startswith("F"):
                counts[code] += n
    statuses: dict[str, Counter] = defaultdict(Counter)
    for codes, status in session.execute(select(f.codes, f.status).where(where)):
        for code in dict.fromkeys(codes or ()):
            counts[code] += 1
            statuses[code][status] += 1
    out = []
    for code, n in sorted(counts.items()):
        rule = {**rule_text(code), "count": n}
        if code in statuses:  # a file-level code: what happened to the files, not a record
            rule["outcome"] = statuses[code].most_common(1)[0][0]
        out.append(rule)
    return out


@dataclass
class RunPage:
    run: RunRow
    files: list[FileRow]
    rules: list[dict[str, Any]]
    enrolments: list[dict[str, Any]]
    assignments: list[dict[str, Any]]  # by insurer and basis
    events: dict[str, int]  # notifications by event: enrolled, renewed, lapsed, …
    renewal: dict[str, int] | None
    totals: dict[str, Any] = field(default_factory=dict)


def run_page(session: Session, run_id: str) -> RunPage | None:
    run = session.get(Run, run_id)
    if run is None:
        return None
    where = ReceivedFile.owner_run_id == run_id
    files = _file_rows(session, where)
    row = runs(session, only=[run_id])[0]
    f, r = ReceivedFile, ReceivedRecord
    enrolments = [
        {
            "enp": enp,
            "reason": why,
            "insurer_code": insurer,
            "basis": basis,
            "file_id": file_id,
            "file_name": name,
            "record_key": mask_record_key(feed, key),
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        for enp, why, valid_from, valid_to, insurer, basis, file_id, name, feed, key in session.execute(  # noqa: E501
            select(
                Policy.enp,
                Policy.reason,
                Policy.valid_from,
                Policy.valid_to,
                InsurerAssignment.insurer_code,
                InsurerAssignment.basis,
                f.id,
                f.name,
                f.feed,
                r.record_key,
            )
            .outerjoin(r, r.id == Policy.issued_record_id)
            .outerjoin(f, f.id == r.file_id)
            .outerjoin(
                InsurerAssignment,
                (InsurerAssignment.record_id == Policy.issued_record_id)
                & (InsurerAssignment.person_id == Policy.person_id),
            )
            .where(Policy.issued_run_id == run_id, Policy.reason != "register_load")
            .order_by(Policy.enp)
            .limit(RECORDS_SHOWN)
        )
    ]
    assignments = [
        {"insurer_code": code, "basis": basis, "count": n}
        for code, basis, n in session.execute(
            select(InsurerAssignment.insurer_code, InsurerAssignment.basis, func.count())
            .where(InsurerAssignment.run_id == run_id)
            .group_by(InsurerAssignment.insurer_code, InsurerAssignment.basis)
            .order_by(InsurerAssignment.insurer_code, InsurerAssignment.basis)
        )
    ]
    events = dict(
        session.execute(
            select(Notification.event, func.count())
            .where(Notification.run_id == run_id)
            .group_by(Notification.event)
        ).all()
    )
    totals = run.totals or {}
    renewal = totals.get("renewal") if isinstance(totals.get("renewal"), dict) else None
    return RunPage(
        run=row,
        files=files,
        rules=rule_counts(session, where),
        enrolments=enrolments,
        assignments=assignments,
        events={k: int(v) for k, v in events.items()},
        renewal=(
            {k: int(renewal.get(k, 0)) for k in ("renewed", "lapsed", "held_for_review")}
            | {k: int(v) for k, v in renewal.items() if isinstance(v, int)}
            if renewal is not None
            else None
        ),
        totals={k: v for k, v in totals.items() if isinstance(v, int) and not isinstance(v, bool)},
    )


# --- one file (the receipt, as the analyst sees it) -------------------------------------------


@dataclass
class FilePage:
    file: FileRow
    rules: list[dict[str, Any]]
    records: list[dict[str, Any]]  # records that carry a code, masked keys
    records_total: int
    sha256: str


def file_page(session: Session, file_id: int) -> FilePage | None:
    rows = _file_rows(session, ReceivedFile.id == file_id)
    if not rows:
        return None
    row = rows[0]
    r = ReceivedRecord
    records = [
        {
            "seq": seq,
            "record_key": mask_record_key(row.feed, key),
            "version": version,
            "outcome": outcome,
            "codes": [rule_text(c) for c in dict.fromkeys(codes or ())],
            "enp": enp,
        }
        for seq, key, version, outcome, codes, enp in session.execute(
            select(r.seq, r.record_key, r.version, r.outcome, r.codes, r.enp)
            .where(r.file_id == file_id, r.outcome != Outcome.ACCEPTED.value)
            .order_by(r.seq)
            .limit(RECORDS_SHOWN)
        )
    ]
    sha = session.scalar(select(ReceivedFile.sha256).where(ReceivedFile.id == file_id))
    return FilePage(
        file=row,
        rules=rule_counts(session, ReceivedFile.id == file_id),
        records=records,
        records_total=row.counts["received"],
        sha256=sha,
    )


# --- senders and rules over time --------------------------------------------------------------


def senders(session: Session) -> list[dict[str, Any]]:
    f, r = ReceivedFile, ReceivedRecord
    files = {
        (feed, sender): (n, last)
        for feed, sender, n, last in session.execute(
            select(f.feed, f.sender, func.count(), func.max(f.received_at))
            .where(f.sender.is_not(None))
            .group_by(f.feed, f.sender)
        )
    }
    out = []
    for row in session.execute(
        select(f.feed, f.sender, *_outcome_columns())
        .join(r, r.file_id == f.id)
        .where(f.sender.is_not(None))
        .group_by(f.feed, f.sender)
    ):
        counts = _counts(row)
        n, last = files.get((row.feed, row.sender), (0, None))
        out.append(
            {
                "sender": row.sender,
                "feed": row.feed,
                "files": n,
                "last": last,
                "counts": counts,
                "rejection_rate": counts["rejected"] / counts["received"]
                if counts["received"]
                else 0.0,
            }
        )
    return sorted(out, key=lambda s: (-s["counts"]["received"], s["sender"]))


def _month(value: datetime | date | None) -> str:
    return f"{value.year:04d}-{value.month:02d}" if value else "—"


@dataclass
class SenderPage:
    sender: str
    feed: str | None
    files: list[FileRow]
    rules: list[dict[str, Any]]  # with the rate per received record
    trend: list[tuple[str, dict[str, int]]]  # (month received, counts by outcome)
    quarters: list[tuple[str, dict[str, int]]]  # РСВ: (reporting quarter, counts)


def sender_page(session: Session, sender: str) -> SenderPage | None:
    f, r = ReceivedFile, ReceivedRecord
    where = f.sender == sender
    files = _file_rows(session, where, limit=FILES_SHOWN)
    if not files:
        return None
    trend: dict[str, Counter] = defaultdict(Counter)
    for received_at, outcome, n in session.execute(
        select(f.received_at, r.outcome, func.count())
        .join(r, r.file_id == f.id)
        .where(where)
        .group_by(f.received_at, r.outcome)
    ):
        trend[_month(received_at)][outcome] += n
    quarters: dict[str, Counter] = defaultdict(Counter)
    if files[0].feed == "fns_rsv":
        from pipelines.register.models import ContributionReport

        report = ContributionReport
        for year, quarter, outcome, n in session.execute(
            select(report.year, report.quarter, r.outcome, func.count())
            .join(r, r.file_id == report.file_id)
            .join(f, f.id == report.file_id)
            .where(where)
            .group_by(report.year, report.quarter, r.outcome)
        ):
            quarters[f"{year} Q{quarter}"][outcome] += n
    received = sum(sum(c.values()) for c in trend.values())
    rules = rule_counts(session, where)
    for rule in rules:
        rule["rate"] = (
            rule["count"] / received if received and not rule["code"].startswith("F") else None
        )
    return SenderPage(
        sender=sender,
        feed=files[0].feed,
        files=files,
        rules=rules,
        trend=[(m, _full(c)) for m, c in sorted(trend.items())],
        quarters=[(q, _full(c)) for q, c in sorted(quarters.items())],
    )


def _full(counter: Counter) -> dict[str, int]:
    return {o: int(counter.get(o, 0)) for o in OUTCOMES}


@dataclass
class RulePage:
    rule: dict[str, Any]
    total: int
    by_sender: list[dict[str, Any]]
    trend: list[tuple[str, int]]  # (month received, count)
    files: list[dict[str, Any]]  # the latest files it fired in


def rule_page(session: Session, code: str) -> RulePage | None:
    if code not in CATALOGUE:
        return None
    f, r = ReceivedFile, ReceivedRecord
    by_sender: Counter = Counter()
    by_month: Counter = Counter()
    by_file: Counter = Counter()
    file_level = code.startswith("F")
    if file_level:
        query = select(f.id, f.sender, f.feed, f.received_at, f.codes)
        for file_id, sender, feed, received_at, codes in session.execute(query):
            if code in (codes or ()):
                by_sender[sender or feed or "unknown"] += 1
                by_month[_month(received_at)] += 1
                by_file[file_id] += 1
    else:
        codes_text = cast(r.codes, Text)
        query = (
            select(f.id, f.sender, f.feed, f.received_at, codes_text, func.count())
            .join(r, r.file_id == f.id)
            .where(codes_text.like(f'%"{code}"%'))
            .group_by(f.id, f.sender, f.feed, f.received_at, codes_text)
        )
        for file_id, sender, feed, received_at, text, n in session.execute(query):
            if code in json.loads(text or "[]"):
                by_sender[sender or feed or "unknown"] += n
                by_month[_month(received_at)] += n
                by_file[file_id] += n
    latest = sorted(by_file, reverse=True)[:50]
    names = dict(session.execute(select(f.id, f.name).where(f.id.in_(latest))).all())
    runs_of = dict(session.execute(select(f.id, f.owner_run_id).where(f.id.in_(latest))).all())
    return RulePage(
        rule=rule_text(code),
        total=sum(by_sender.values()),
        by_sender=[{"sender": s, "count": n} for s, n in by_sender.most_common()],
        trend=sorted(by_month.items()),
        files=[
            {"id": i, "name": names.get(i), "run_id": runs_of.get(i), "count": by_file[i]}
            for i in latest
        ],
    )


# --- a person: why they are in the register ---------------------------------------------------


@dataclass
class PersonPage:
    enp: str
    person: dict[str, Any]  # masked
    policies: list[dict[str, Any]]
    enrolled_by: dict[str, Any]  # the facts and the rule that enrolled them
    assignments: list[dict[str, Any]]  # insurer, basis, why, where from
    history: list[dict[str, Any]]  # every change with its provenance


BASIS_TEXT = {
    "mother_insurer": (
        "the mother's insurer: she is in the register with a policy in force (newborns follow "
        "their mother, DOMAIN.md §6)",
        "СМО матери: мать есть в регистре, её полис действует",
    ),
    "fund_share": (
        "assigned by the fund by the insurers' shares (the insurer furthest below its quota)",
        "назначена фондом по долям СМО (наибольшее отставание от квоты)",
    ),
    "register_load": (
        "the insurer the fund's register had at the initial load",
        "СМО из регистра фонда при первичной загрузке",
    ),
    "previous_insurer": ("the insurer the person already had", "прежняя СМО застрахованного"),
    "own_choice": ("the person's own choice", "выбор застрахованного лица"),
}


def person_page(session: Session, enp: str) -> PersonPage | None:
    policy = session.get(Policy, enp)
    if policy is None:
        return None
    person = session.get(Person, policy.person_id)
    f, r = ReceivedFile, ReceivedRecord
    files: dict[int, tuple[str, str | None, str | None]] = {}

    def source(
        record_id: int | None, file_id: int | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        if record_id is None and file_id is None:  # a run's own decision: the renewal, say
            return {"run_id": run_id} if run_id else {}
        row = (
            session.execute(
                select(r.id, r.seq, r.record_key, r.version, f.id, f.name, f.feed, f.owner_run_id)
                .join(f, f.id == r.file_id)
                .where(r.id == record_id)
            ).first()
            if record_id is not None
            else None
        )
        if row is None:
            if file_id is None:
                return {}
            name, feed, run_id = session.execute(
                select(f.name, f.feed, f.owner_run_id).where(f.id == file_id)
            ).one()
            return {"file_id": file_id, "file_name": name, "run_id": run_id}
        rid, seq, key, version, fid, name, feed, run_id = row
        files[fid] = (name, feed, run_id)
        return {
            "record_id": rid,
            "seq": seq,
            "record_key": mask_record_key(feed, key),
            "version": version,
            "file_id": fid,
            "file_name": name,
            "feed": feed,
            "run_id": run_id,
        }

    policies = [
        {
            "enp": p.enp,
            "status": p.status,
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
            "reason": p.reason,
            "issued_run_id": p.issued_run_id,
            "source": source(p.issued_record_id, None, p.issued_run_id),
        }
        for p in session.scalars(
            select(Policy).where(Policy.person_id == person.id).order_by(Policy.valid_from)
        )
    ]
    enrolled_by = _enrolled_by(session, person, policy, source)
    assignments = []
    for a in session.scalars(
        select(InsurerAssignment)
        .where(InsurerAssignment.person_id == person.id)
        .order_by(InsurerAssignment.assigned_on, InsurerAssignment.id)
    ):
        links = session.scalar(select(r.links).where(r.id == a.record_id)) if a.record_id else None
        en, ru = BASIS_TEXT.get(a.basis, (a.basis, a.basis))
        assignments.append(
            {
                "insurer_code": a.insurer_code,
                "assigned_on": a.assigned_on,
                "basis": a.basis,
                "why_en": en,
                "why_ru": ru,
                "matched": (links or {}).get("mother") if a.basis == "mother_insurer" else None,
                "run_id": a.run_id,
                "source": source(a.record_id, None, a.run_id),
            }
        )
    history = [
        {
            "version": h.version,
            "change": h.change,
            "changed_at": h.changed_at,
            "data": mask_fields(h.data or {}),
            "run_id": h.run_id,
            "source": source(h.record_id, h.file_id, h.run_id),
        }
        for h in session.scalars(
            select(PersonHistory)
            .where(PersonHistory.person_id == person.id)
            .order_by(PersonHistory.version)
        )
    ]
    shown = mask_fields(
        {
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "birth_date": person.birth_date,
            "snils": person.snils,
            "sex": person.sex,
            "citizenship": person.citizenship,
            "insurer_code": person.insurer_code,
            "origin": person.origin,
            "included_on": person.included_on,
            "version": person.version,
        }
    )
    return PersonPage(enp, shown, policies, enrolled_by, assignments, history)


def _enrolled_by(session: Session, person: Person, policy: Policy, source) -> dict[str, Any]:
    """The facts that put the person in the register and the rule in force that did."""
    if person.origin == "zags_births":
        act = session.execute(
            select(PersonKey.value, PersonKey.version, PersonKey.record_id).where(
                PersonKey.person_id == person.id
            )
        ).first()
        first = session.scalar(
            select(PersonHistory.record_id).where(
                PersonHistory.person_id == person.id, PersonHistory.version == 1
            )
        )
        links = session.scalar(select(ReceivedRecord.links).where(ReceivedRecord.id == first))
        return {
            "kind": "birth",
            "act_number": act[0] if act else None,
            "act_version": act[1] if act else None,
            "source": source(first),
            "latest_source": source(act[2]) if act and act[2] != first else None,
            "matched": links or {},
            "rule_en": "A child born in the region whose birth act record is in force is enrolled "
            "from the act record, with no application (ФЗ-326 art. 16; DOMAIN.md §5)",
            "rule_ru": "Ребёнок, запись акта о рождении которого действует, включается в регистр "
            "по записи акта без заявления",
        }
    if person.origin == "fns_rsv":
        entry = session.scalar(
            select(ForeignEligibility).where(ForeignEligibility.person_id == person.id)
        )
        first = session.scalar(
            select(PersonHistory.record_id).where(
                PersonHistory.person_id == person.id, PersonHistory.version == 1
            )
        )
        from pipelines.register.models import ContributionMonth as Month

        reported_in = [
            {"file_id": fid, "file_name": name, "period": f"{year} Q{quarter}", "sender": sender,
             "months": int(n)}
            for fid, name, sender, year, quarter, n in session.execute(
                select(ReceivedFile.id, ReceivedFile.name, ReceivedFile.sender, Month.year,
                       Month.quarter, func.count())
                .join(ReceivedRecord, ReceivedRecord.id == Month.record_id)
                .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
                .where(Month.snils == person.snils, Month.counts_for_foreign.is_(True))
                .group_by(ReceivedFile.id, ReceivedFile.name, ReceivedFile.sender, Month.year,
                          Month.quarter)
                .order_by(Month.year, Month.quarter)
            )
        ] if person.snils else []  # fmt: skip
        return {
            "kind": "contributions",
            "reported_in": reported_in,
            "months": list(entry.months) if entry else [],
            "months_count": entry.months_count if entry else None,
            "threshold": entry.threshold if entry else None,
            "rule": entry.rule if entry else None,
            "status": entry.status if entry else None,
            "evaluated_on": entry.evaluated_on if entry else None,
            "source": source(first),
            "rule_en": "A foreign worker for whom the employer paid insurance contributions for "
            "the required number of months is enrolled with no application",
            "rule_ru": "Иностранный работник, за которого работодатель уплачивал страховые "
            "взносы требуемое число месяцев, включается в регистр без заявления",
        }
    return {
        "kind": person.origin,
        "source": source(policy.issued_record_id),
        "rule_en": "In the fund's register before this pipeline: loaded from its extract",
        "rule_ru": "Был в регистре фонда: загружен из его выгрузки",
    }


def archive_path(session: Session, file_id: int) -> str | None:
    return session.scalar(
        select(FileContent.archive_path)
        .join(ReceivedFile, ReceivedFile.sha256 == FileContent.sha256)
        .where(ReceivedFile.id == file_id)
    )
