"""The review queue: the records held for an analyst, the masked facts to decide them by, and
their resolution — recorded with who, when and why, and applied as ingestion would have.

A held record is a received record whose outcome is ``review`` (births), or a foreign worker
the end of a run held (``foreign_eligibility``: R004, R007, R008), keyed by the person block
that reported them last. Each has a stable key, ``<file id>:<seq>``. An acceptance waits for a
second analyst when the fund asks for it (``ERZL_REVIEW_CONFIRM_ACCEPT``); a rejection, or a
confirmed acceptance, is applied in a run of its own (trigger ``review``): an accepted birth
enrols exactly as if it had passed, a rejected record's outcome becomes ``rejected`` and its
sender gets a follow-up receipt. Which codes allow which action: ``ACCEPT_EFFECT`` and
docs/rules.md.

:func:`resolve` works in the caller's transaction; :func:`emit` writes what the application
sends out once that transaction has committed; :func:`resolve_and_emit` does both (the command
line). Errors are :class:`ReviewError`, one line with a stable code (V001…), never a value.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipelines.codes import CATALOGUE, FileStatus, Outcome, reason
from pipelines.config import Settings
from pipelines.errors import PipelineFailure
from pipelines.privacy import mask_date, mask_name, mask_snils
from pipelines.register.db import as_utc
from pipelines.register.models import (
    FileContent,
    ForeignEligibility,
    PersonKey,
    ReceivedFile,
    ReceivedRecord,
    ReportedPerson,
    ReviewDecision,
    Run,
)

ACCEPT, REJECT = "accept", "reject"
ACTIONS = (ACCEPT, REJECT)
AWAITING, APPLIED, DECLINED = "awaiting_confirmation", "applied", "declined"

# What accepting a record held for a code does; a held code not listed here cannot be accepted
# (its enrolment is not well-defined), only rejected.
ACCEPT_EFFECT: dict[str, str] = {
    "Z007": "the status code is taken as in force: enrolled",
    "Z014": "the early birth year is taken as true: enrolled",
    "Z015": "the parent's age is taken as true: enrolled",
    "Z016": "the birth order is taken as true: enrolled",
    "Z017": "enrolled; the insurer is the fund's by share, not a mother's",
    "Z018": "enrolled; the insurer is the fund's by share, not the mother's",
    "Z019": "none of the candidates is the child: enrolled as a new person",
    "R004": "the policy is kept; the worker is measured from now on against the months counted",
    "R007": "enrolled as a foreign worker, as the end of a run would",
}
# ... and why the others are reject-only
REJECT_ONLY: dict[str, str] = {
    "Z004": "a partial birth date cannot make an ЕНП",
    "Z009": "sex, live birth or first name unknown: nothing well-defined to enrol",
    "Z011": "the child's СНИЛС belongs to another person: it cannot be held twice",
    "Z013": "the register does not revoke a policy: rejecting keeps the enrolled version",
    "R008": "without a birth date there is no ЕНП",
}
# the codes whose rejection is not defined (the policy is never revoked from the queue)
ACCEPT_ONLY = frozenset({"R004"})

ERRORS: dict[str, str] = {
    "V001": "no received record has this key (<file id>:<seq>)",
    "V002": "the record is not held for review: resolved already, or not held (list again)",
    "V003": "a note saying why is required",
    "V004": "this action is not allowed for the codes the record is held for",
    "V005": "an acceptance must be confirmed by another analyst than the one who made it",
    "V006": "a later version of the act was applied meanwhile: the record cannot be accepted",
    "V007": "decided again, the record does not pass now",
    "V008": "an analyst must be named (--as, ERZL_ANALYST or the login name)",
    "V009": "the record cannot be read again: its file is not finished or its archive is gone",
}


class ReviewError(PipelineFailure):
    """A resolution refused: ``V<nnn> <why>[ (<ids or codes>)]``, never a personal value."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code} {ERRORS[code]}" + (f" ({detail})" if detail else ""))
        self.code = code


def default_analyst() -> str:
    """Who is deciding: ERZL_ANALYST, else the login name."""
    name = os.environ.get("ERZL_ANALYST", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def allowed_actions(codes: list[str] | tuple[str, ...], *, superseded: bool = False) -> tuple:
    """The actions an analyst may take on a record held for ``codes``: accept when every code
    allows it (and no later version of the act was applied), reject unless a code forbids it."""
    allowed = []
    if codes and not superseded and all(c in ACCEPT_EFFECT for c in codes):
        allowed.append(ACCEPT)
    if not any(c in ACCEPT_ONLY for c in codes):
        allowed.append(REJECT)
    return tuple(allowed)


# --- what is held ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeText:
    code: str
    text: str
    text_ru: str

    @classmethod
    def of(cls, code: str) -> CodeText:
        r = reason(code)
        return cls(code, r.text, r.text_ru)


@dataclass(frozen=True)
class PendingDecision:
    """An acceptance awaiting a second analyst."""

    id: int
    action: str
    decided_by: str
    decided_at: datetime
    note: str

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "decided_at": self.decided_at.isoformat()}


@dataclass(frozen=True)
class HeldRecord:
    """One held record as an analyst sees it: where it came from, why it is held, the masked
    facts to decide by, what may be done with it and an acceptance awaiting confirmation."""

    key: str  # "<file id>:<seq>": what resolves it
    file_id: int
    file_name: str
    feed: str | None
    sender: str | None
    run_id: str | None  # the run that held it
    seq: int
    record_key: str | None  # the act number; an РСВ block's СНИЛС masked
    codes: tuple[CodeText, ...]
    received_at: datetime
    facts: dict
    allowed: tuple[str, ...]
    state: str  # held | awaiting_confirmation
    pending: PendingDecision | None = None

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "file_id": self.file_id,
            "file_name": self.file_name,
            "feed": self.feed,
            "sender": self.sender,
            "run_id": self.run_id,
            "seq": self.seq,
            "record_key": self.record_key,
            "codes": [dataclasses.asdict(c) for c in self.codes],
            "received_at": self.received_at.isoformat(),
            "facts": self.facts,
            "allowed": list(self.allowed),
            "state": self.state,
            "pending": self.pending.to_json() if self.pending else None,
        }


@dataclass
class _Held:
    """A held record while it is worked on: its rows, the codes it is held for, and for a
    foreign worker the eligibility entry that holds them."""

    record: ReceivedRecord
    file: ReceivedFile
    codes: list[str]
    entry: ForeignEligibility | None = None
    superseded: str | None = None  # the version of the act applied meanwhile
    pending: ReviewDecision | None = None

    @property
    def key(self) -> str:
        return f"{self.file.id}:{self.record.seq}"

    @property
    def allowed(self) -> tuple[str, ...]:
        return allowed_actions(self.codes, superseded=self.superseded is not None)


def _held_codes(codes) -> list[str]:
    return [c for c in codes or () if c in CATALOGUE and reason(c).outcome == Outcome.REVIEW]


def _worker_codes(entry: ForeignEligibility) -> list[str]:
    """The code an eligibility entry is held for: R004 (fell below), R007 or R008 (held)."""
    if entry.status == "review":
        return ["R004"]
    return ["R008"] if "R008" in (entry.rule or "") else ["R007"]


def _source_record(session: Session, snils: str):
    """The person block that reported the worker last: the record their hold is keyed by."""
    return session.execute(
        select(ReceivedRecord, ReceivedFile)
        .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .where(
            ReceivedFile.feed == "fns_rsv",
            ReceivedRecord.record_key == snils,
            ReceivedRecord.outcome == str(Outcome.ACCEPTED),
        )
        .order_by(ReceivedRecord.id.desc())
        .limit(1)
    ).first()


def _held_records(session: Session, *where) -> list[_Held]:
    rows = session.execute(
        select(ReceivedRecord, ReceivedFile)
        .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .where(ReceivedRecord.outcome == str(Outcome.REVIEW), *where)
        .order_by(ReceivedRecord.file_id, ReceivedRecord.seq)
    ).all()
    return [_Held(record, row, _held_codes(record.codes)) for record, row in rows]


def _held_workers(session: Session, *where) -> list[_Held]:
    held = []
    entries = session.scalars(
        select(ForeignEligibility)
        .where(ForeignEligibility.status.in_(("held", "review")), *where)
        .order_by(ForeignEligibility.snils)
    )
    for entry in entries:
        found = _source_record(session, entry.snils)
        if found is not None:
            held.append(_Held(found[0], found[1], _worker_codes(entry), entry))
    return held


def _complete(session: Session, items: list[_Held]) -> list[_Held]:
    """Attach each item's pending acceptance, and for an act whether a version at least as
    late was applied meanwhile (then it can no longer be accepted)."""
    from pipelines.enrol.births import KEY_KIND, version_order

    ids = [h.record.id for h in items]
    pending = {
        d.record_id: d
        for d in session.scalars(
            select(ReviewDecision).where(
                ReviewDecision.record_id.in_(ids), ReviewDecision.state == AWAITING
            )
        )
    }
    acts = sorted({h.record.record_key for h in items if h.entry is None and h.record.record_key})
    keys = {
        k.value: k
        for k in session.scalars(
            select(PersonKey).where(PersonKey.kind == KEY_KIND, PersonKey.value.in_(acts))
        )
    }
    for h in items:
        h.pending = pending.get(h.record.id)
        key = keys.get(h.record.record_key) if h.entry is None else None
        if (
            key is not None
            and key.record_id != h.record.id
            and version_order(key.version) >= version_order(h.record.version)
        ):
            h.superseded = key.version
    return items


def list_held(session: Session, settings: Settings) -> list[HeldRecord]:
    """Every record held for review and not resolved yet (an acceptance awaiting confirmation
    included, with that state), with its masked facts and the actions allowed."""
    items = _complete(session, _held_records(session) + _held_workers(session))
    facts = _facts(session, items)
    out = []
    for h in items:
        pending = h.pending
        out.append(
            HeldRecord(
                key=h.key,
                file_id=h.file.id,
                file_name=h.file.name,
                feed=h.file.feed,
                sender=h.file.sender,
                run_id=h.entry.run_id if h.entry is not None else h.file.owner_run_id,
                seq=h.record.seq,
                record_key=_shown_key(h.file.feed, h.record.record_key),
                codes=tuple(CodeText.of(c) for c in h.codes),
                received_at=as_utc(h.file.received_at),
                facts=facts[h.record.id],
                allowed=h.allowed,
                state=AWAITING if pending is not None else "held",
                pending=PendingDecision(
                    pending.id,
                    pending.action,
                    pending.decided_by,
                    as_utc(pending.decided_at),
                    pending.note,
                )
                if pending is not None
                else None,
            )
        )
    return out


def _shown_key(feed: str | None, key: str | None) -> str | None:
    """An act number as it is; an РСВ block's key is the person's СНИЛС, masked."""
    if key is None or feed != "fns_rsv" or key.startswith("#"):
        return key
    return mask_snils(key)


# --- the facts an analyst decides by (masked by the field they come from) -------------------


def _facts(session: Session, items: list[_Held]) -> dict[int, dict]:
    births = [h for h in items if h.entry is None]
    records = _read_records(session, births)
    people = _candidates(session, births)
    out = {}
    for h in items:
        if h.entry is not None:
            out[h.record.id] = _worker_facts(session, h.entry)
            continue
        facts = _birth_facts(records.get(h.record.id))
        links = h.record.links or {}
        matched = {who: keys for who, keys in links.items() if not who.endswith("_candidates")}
        if matched:
            facts["matched"] = matched
        for who in ("mother", "child"):
            ids = links.get(f"{who}_candidates")
            if ids is not None:
                facts[f"{who}_candidates"] = {
                    "count": len(ids),
                    "people": [people[i] for i in ids if i in people],
                }
        if h.superseded is not None:
            facts["act_applied_version"] = h.superseded
        out[h.record.id] = facts
    return out


def _read_records(session: Session, items: list[_Held]) -> dict:
    """The held records read again from their archived files: each file read once, as far as
    its last held record."""
    from pipelines.parse.xmlsafe import FileError

    wanted: dict[int, dict[int, int]] = {}
    for h in items:
        wanted.setdefault(h.file.id, {})[h.record.seq] = h.record.id
    found = {}
    for file_id, seqs in wanted.items():
        try:
            for record in _iter_file(session, session.get(ReceivedFile, file_id)):
                if record.seq in seqs:
                    found[seqs[record.seq]] = record
                if record.seq >= max(seqs):
                    break
        except (ReviewError, FileError, OSError):
            continue  # the facts say the record could not be read
    return found


def _iter_file(session: Session, row: ReceivedFile):
    from pipelines.parse.birth_formats import FORMATS

    reader = FORMATS.get(row.format or "")
    content = session.get(FileContent, row.sha256)
    path = Path(content.archive_path) if content is not None else None
    if reader is None or path is None or not path.is_file():
        raise ReviewError("V009", f"file {row.id}")
    return reader.iter_births(path)


def _read_birth(session: Session, row: ReceivedFile, seq: int):
    from pipelines.parse.xmlsafe import FileError

    try:
        for record in _iter_file(session, row):
            if record.seq == seq:
                return record
    except (FileError, OSError) as error:
        raise ReviewError("V009", f"file {row.id}") from error
    raise ReviewError("V009", f"file {row.id} record {seq}")


def _masked_name(*parts) -> str | None:
    """A full name's parts (text, absent or not sent), each as its first letter."""
    from pipelines.link import text

    return " ".join(mask_name(t) for t in parts if text(t)) or None


def _parts(name) -> tuple:
    return name.last_name, name.first_name, name.middle_name


def _masked_birth(value) -> str | None:
    from pipelines.records import PartialDate

    return mask_date(value) if isinstance(value, PartialDate) else None


def _birth_facts(record) -> dict:
    from pipelines.records import Parent

    if record is None:
        return {"record": "cannot be read again from the archived file"}
    facts: dict = {
        "version": record.version,
        "status_code": record.status_code,
        "child": {
            "name": _masked_name(*_parts(record.child.name)),
            "birth_date": _masked_birth(record.child.birth_date),
        },
    }
    for who, parent in (("mother", record.mother), ("father", record.father)):
        if isinstance(parent, Parent):
            facts[who] = {
                "name": _masked_name(*_parts(parent.name)),
                "birth_date": _masked_birth(parent.birth_date),
            }
    if record.children_in_birth is not None or isinstance(record.birth_order, int):
        facts["birth"] = {
            "children": record.children_in_birth,
            "order": record.birth_order if isinstance(record.birth_order, int) else None,
        }
    return facts


def _candidates(session: Session, items: list[_Held]) -> dict[int, dict]:
    """The people linking compared a held record with: each one's ЕНП and insurer."""
    from pipelines.enrol.register_ops import latest_policy
    from pipelines.register.models import Person

    ids = sorted(
        {
            i
            for h in items
            for who in ("mother", "child")
            for i in (h.record.links or {}).get(f"{who}_candidates", ())
        }
    )
    out = {}
    for person in session.scalars(select(Person).where(Person.id.in_(ids))):
        policy = latest_policy(session, person.id)
        out[person.id] = {
            "enp": policy.enp if policy else None,
            "policy_status": policy.status if policy else None,
            "insurer_code": person.insurer_code,
        }
    return out


def _worker_facts(session: Session, entry: ForeignEligibility) -> dict:
    reported = session.get(ReportedPerson, entry.snils)
    facts: dict = {
        "months_count": entry.months_count,
        "threshold": entry.threshold,
        "rule": entry.rule,
        "eligibility": entry.status,
    }
    if reported is not None:
        facts["reported"] = {
            "name": _masked_name(reported.last_name, reported.first_name, reported.middle_name),
            "birth_date": mask_date(reported.birth_date) or "unknown",
            "citizenship": reported.citizenship,
            "employer_inn": reported.payer_inn,
        }
    return facts


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionView:
    """A decision as the audit shows it."""

    id: int
    key: str
    action: str
    state: str
    codes: tuple[str, ...]
    decided_by: str
    decided_at: datetime
    note: str
    confirmed_by: str | None
    confirmed_at: datetime | None
    run_id: str | None

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["codes"] = list(self.codes)
        data["decided_at"] = self.decided_at.isoformat()
        data["confirmed_at"] = self.confirmed_at.isoformat() if self.confirmed_at else None
        return data


def list_decisions(session: Session, limit: int | None = None) -> list[DecisionView]:
    """The decisions taken, the latest first: who decided, who confirmed, when, why."""
    query = (
        select(ReviewDecision, ReceivedRecord.file_id, ReceivedRecord.seq)
        .join(ReceivedRecord, ReceivedRecord.id == ReviewDecision.record_id)
        .order_by(ReviewDecision.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        DecisionView(
            id=d.id,
            key=f"{file_id}:{seq}",
            action=d.action,
            state=d.state,
            codes=tuple(d.codes or ()),
            decided_by=d.decided_by,
            decided_at=as_utc(d.decided_at),
            note=d.note,
            confirmed_by=d.confirmed_by,
            confirmed_at=as_utc(d.confirmed_at) if d.confirmed_at else None,
            run_id=d.run_id,
        )
        for d, file_id, seq in session.execute(query)
    ]


@dataclass(frozen=True)
class Resolution:
    """What a resolution did: the decision and its state, the record's outcome now, and once
    applied the run that applied it and what it wrote."""

    key: str
    decision_id: int
    action: str
    state: str  # awaiting_confirmation | applied
    outcome: str  # the record's outcome now
    decided_by: str
    confirmed_by: str | None = None
    run_id: str | None = None
    enp: str | None = None
    outputs: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "outputs": list(self.outputs)}


def _parse_key(key: str) -> tuple[int, int]:
    file_id, sep, seq = (key or "").strip().partition(":")
    if not sep or not file_id.isdigit() or not seq.isdigit():
        raise ReviewError("V001")
    return int(file_id), int(seq)


def _find(session: Session, key: str) -> _Held:
    """The held item a key names, its record row locked; V001 / V002 when there is none."""
    file_id, seq = _parse_key(key)
    record = session.scalars(
        select(ReceivedRecord)
        .where(ReceivedRecord.file_id == file_id, ReceivedRecord.seq == seq)
        .with_for_update()
    ).first()
    if record is None:
        raise ReviewError("V001", key)
    row = session.get(ReceivedFile, file_id)
    if record.outcome == str(Outcome.REVIEW):
        items = _held_records(session, ReceivedRecord.id == record.id)
    elif row.feed == "fns_rsv" and record.outcome == str(Outcome.ACCEPTED) and record.record_key:
        items = [
            h
            for h in _held_workers(session, ForeignEligibility.snils == record.record_key)
            if h.record.id == record.id  # only the block that reported the worker last
        ]
    else:
        items = []
    if not items:
        raise ReviewError("V002", key)
    return _complete(session, items)[0]


def resolve(
    session: Session,
    settings: Settings,
    key: str,
    action: str,
    note: str,
    user: str,
    *,
    as_of: date | None = None,
) -> Resolution:
    """Decide a held record, in the caller's transaction.

    ``accept``: with maker-checker on (ERZL_REVIEW_CONFIRM_ACCEPT), the first acceptance waits
    for confirmation and a second ``accept`` by another analyst confirms and applies it; off,
    it applies at once. ``reject`` applies at once (and turns down an acceptance awaiting
    confirmation). What is applied is applied in a new run (trigger ``review``) dated
    ``as_of`` (default today); call :func:`emit` once the transaction has committed.
    """
    note, user = (note or "").strip(), (user or "").strip()
    if action not in ACTIONS:
        raise ReviewError("V004", "accept or reject")
    if not note:
        raise ReviewError("V003")
    if not user:
        raise ReviewError("V008")
    held = _find(session, key)
    if held.file.state != "emitted":  # the sender has no receipt yet to follow up on
        raise ReviewError("V009", f"file {held.file.id}")
    if action not in held.allowed:
        if action == ACCEPT and held.superseded is not None:
            raise ReviewError("V006", key)
        raise ReviewError("V004", ", ".join(held.codes) or "no code")
    now = datetime.now(UTC)
    pending = held.pending
    if action == ACCEPT and pending is not None:
        if pending.decided_by == user:
            raise ReviewError("V005", key)
        pending.confirmed_by, pending.confirmed_at = user, now
        pending.note = f"{pending.note}\n[confirmed by {user}] {note}"
        decision = pending
    else:
        if pending is not None:  # a reject turns down the acceptance awaiting confirmation
            pending.state, pending.confirmed_by, pending.confirmed_at = DECLINED, user, now
            pending.note = f"{pending.note}\n[declined by {user}] {note}"
        decision = ReviewDecision(
            record_id=held.record.id,
            action=action,
            state=AWAITING,
            codes=list(held.codes),
            decided_by=user,
            decided_at=now,
            note=note,
        )
        session.add(decision)
        session.flush()
        if action == ACCEPT and settings.review_confirm_accept:
            return Resolution(held.key, decision.id, ACCEPT, AWAITING, held.record.outcome, user)
    return _apply(session, settings, held, decision, as_of or date.today())


def _apply(
    session: Session, settings: Settings, held: _Held, decision: ReviewDecision, as_of: date
) -> Resolution:
    from pipelines.enrol.register_ops import sync_insurers
    from pipelines.run import new_run_id, renew_lease

    run = Run(
        id=new_run_id("review"),
        trigger="review",
        as_of=as_of,
        started_at=datetime.now(UTC),
        status="running",
    )
    session.add(run)
    renew_lease(session, settings, run)
    session.flush()
    sync_insurers(session, settings)
    decision.state, decision.run_id = APPLIED, run.id
    stamp = {
        "id": decision.id,
        "action": decision.action,
        "decided_by": decision.decided_by,
        "confirmed_by": decision.confirmed_by,
    }
    record, row = held.record, held.file
    before = record.outcome
    effects: Counter = Counter()
    if decision.action == REJECT:
        record.outcome, record.codes = (
            str(Outcome.REJECTED),
            [
                *(record.codes or []),
                *(c for c in held.codes if c not in (record.codes or [])),
            ],
        )
        if held.entry is not None:
            held.entry.status = "rejected"  # not enrolled from contributions again
    elif held.entry is None:
        effects = _accept_birth(session, settings, run, held, stamp)
    else:
        effects = _accept_worker(session, settings, run, held, decision.id, stamp)
    if record.outcome != before:
        _restate(session, row)
    if held.entry is None:  # a file's effects are its own; a worker's belong to the run
        row.counts = {
            k: (row.counts or {}).get(k, 0) + effects[k]
            for k in ("enrolled", "policies_issued", "updated")
        }
    run.totals = {
        "review_decision": decision.id,
        "enrolled": effects["enrolled"],
        "policies_issued": effects["policies_issued"],
        "updated": effects["updated"],
    }
    session.flush()
    return Resolution(
        held.key,
        decision.id,
        decision.action,
        APPLIED,
        record.outcome,
        decision.decided_by,
        decision.confirmed_by,
        run.id,
        record.enp,
    )


def _accept_birth(session: Session, settings: Settings, run: Run, held: _Held, stamp) -> Counter:
    """Decide the record again by the ingestion's code path, its held codes waived."""
    from pipelines.enrol.births import reapply_held

    record = _read_birth(session, held.file, held.record.seq)
    outcome, codes, counts = reapply_held(
        session, settings, run.id, run.as_of, held.file.id, record, frozenset(held.codes), stamp
    )
    if "Z005" in codes:
        raise ReviewError("V006", held.key)
    if outcome != Outcome.ACCEPTED:
        raise ReviewError("V007", f"{outcome}: {', '.join(codes)}")
    return counts


def _accept_worker(
    session: Session, settings: Settings, run: Run, held: _Held, decision_id: int, stamp
) -> Counter:
    from pipelines.enrol.contributions import enrol_held_worker, keep_enrolled_worker
    from pipelines.enrol.register_ops import latest_policy

    entry, record = held.entry, held.record
    if "R004" in held.codes:
        keep_enrolled_worker(entry, decision_id)
        return Counter()
    status = enrol_held_worker(
        session,
        settings,
        run.id,
        run.as_of,
        entry,
        waive=frozenset(held.codes),
        source=(held.file.id, record.id),
        decision=stamp,
    )
    if status != "enrolled":
        raise ReviewError("V007", f"the worker is {status} now")
    record.person_id = entry.person_id
    record.enp = latest_policy(session, entry.person_id).enp
    return Counter(enrolled=1, policies_issued=1)


def _restate(session: Session, row: ReceivedFile) -> None:
    """A file's status from its records' outcomes, once one of them changed."""
    if row.status not in (FileStatus.ACCEPTED, FileStatus.PARTIALLY_ACCEPTED):
        return
    session.flush()
    held = session.scalar(
        select(func.count()).where(
            ReceivedRecord.file_id == row.id,
            ReceivedRecord.outcome.in_((str(Outcome.REJECTED), str(Outcome.REVIEW))),
        )
    )
    row.status = str(FileStatus.PARTIALLY_ACCEPTED if held else FileStatus.ACCEPTED)


# --- what an application sends out ---------------------------------------------------------


def _changes_outcome(decision: ReviewDecision, feed: str | None) -> bool:
    """Whether applying the decision changed the record's outcome (a follow-up receipt is
    owed): every rejection, and the acceptance of a held birth (a worker's block stays
    accepted: the hold was on their eligibility)."""
    return decision.action == REJECT or feed != "fns_rsv"


def followup_path(session: Session, settings: Settings, decision: ReviewDecision) -> Path | None:
    """``<receipt stem>.followup-<n>.xml`` beside the file's receipt: the n-th applied decision
    of the file that changed a record's outcome; None when this one changed none."""
    from pipelines.emit_run import receipt_dir

    record = session.get(ReceivedRecord, decision.record_id)
    row = session.get(ReceivedFile, record.file_id)
    if decision.state != APPLIED or not _changes_outcome(decision, row.feed):
        return None
    earlier = session.execute(
        select(ReviewDecision, ReceivedFile.feed)
        .join(ReceivedRecord, ReceivedRecord.id == ReviewDecision.record_id)
        .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .where(
            ReceivedRecord.file_id == row.id,
            ReviewDecision.state == APPLIED,
            ReviewDecision.id <= decision.id,
        )
    ).all()
    n = sum(1 for d, feed in earlier if _changes_outcome(d, feed))
    stem = PurePath(row.receipt_name).stem if row.receipt_name else f"receipt-{row.id}"
    return receipt_dir(session, settings, row) / f"{stem}.followup-{n}.xml"


def _write_followup(session: Session, settings: Settings, decision: ReviewDecision) -> Path:
    """The sender's follow-up receipt: the file's records with their outcomes now."""
    from pipelines.emit import write_atomic, xml_bytes
    from pipelines.emit.model import Receipt
    from pipelines.emit.receipt import SCHEMA, receipt_xml
    from pipelines.emit_run import file_records
    from pipelines.run import OUTCOMES

    path = followup_path(session, settings, decision)
    record = session.get(ReceivedRecord, decision.record_id)
    row = session.get(ReceivedFile, record.file_id)
    records = tuple(file_records(session, row.id))
    counts = Counter(r.outcome for r in records)
    content = session.get(FileContent, row.sha256)
    receipt = Receipt(
        file_name=row.name,
        feed=row.feed or "unknown",
        sha256=row.sha256 if content.hashed else None,
        received_at=as_utc(row.received_at),
        processed_on=session.get(Run, decision.run_id).as_of,
        status=row.status,
        file_codes=tuple(row.codes or ()),
        counts={"received": len(records), **{o: counts.get(o, 0) for o in OUTCOMES}},
        records=records,
        run_id=decision.run_id,
        format=row.format,
        detail=row.detail,
    )
    return write_atomic(path, xml_bytes(receipt_xml(receipt), SCHEMA), kind="followup")


def _emit_run(session: Session, settings: Settings, run_id: str) -> list[Path]:
    """Everything a review run sends out, from committed state, then the run is finished:
    the follow-up receipt, the insurers' notices, the policy list and the run's report."""
    from pipelines import emit_run

    written = []
    for decision in session.scalars(select(ReviewDecision).where(ReviewDecision.run_id == run_id)):
        if followup_path(session, settings, decision) is not None:
            written.append(_write_followup(session, settings, decision))
    written += emit_run.write_notices(session, settings, run_id)
    written.append(emit_run.write_policy_list(session, settings, run_id))
    written += emit_run.write_report(session, settings, run_id)
    run = session.get(Run, run_id)
    run.status, run.finished_at = "finished", datetime.now(UTC)
    return written


def emit(settings: Settings, resolution: Resolution) -> Resolution:
    """Write what an applied resolution sends out, once its transaction has committed."""
    from pipelines.register import db

    if resolution.state != APPLIED:
        return resolution
    with db.session_scope(settings) as session:
        written = _emit_run(session, settings, resolution.run_id)
    return dataclasses.replace(resolution, outputs=tuple(str(p) for p in written))


def emit_pending(settings: Settings) -> int:
    """Finish what an application that died left: a review run still running without a live
    owner is emitted and finished, and a follow-up receipt missing on disk is written again.
    Returns how many outputs were written."""
    from pipelines.register import db
    from pipelines.run import run_is_live

    count = 0
    with db.session_scope(settings) as session:
        dead = [
            r.id
            for r in session.scalars(
                select(Run).where(Run.trigger == "review", Run.status != "finished")
            )
            if not run_is_live(r)
        ]
        for run_id in dead:
            count += len(_emit_run(session, settings, run_id))
        for decision in session.scalars(
            select(ReviewDecision).where(ReviewDecision.state == APPLIED)
        ):
            path = followup_path(session, settings, decision)
            if path is not None and not path.is_file():
                _write_followup(session, settings, decision)
                count += 1
    return count


def resolve_and_emit(
    settings: Settings,
    key: str,
    action: str,
    note: str,
    user: str,
    *,
    as_of: date | None = None,
) -> Resolution:
    """:func:`resolve` in a transaction of its own, then :func:`emit`: ``erzl review resolve``."""
    from pipelines.register import db
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    emit_pending(settings)
    with db.session_scope(settings) as session:
        resolution = resolve(session, settings, key, action, note, user, as_of=as_of)
    return emit(settings, resolution)
