"""``erzl check``: the register's invariants, checked against a live database.

Each violation names the invariant and the ids involved (file, record, person, ЕНП, run) —
never a personal value — so it can be printed, logged and pasted into an issue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from pipelines.codes import Outcome
from pipelines.config import Settings
from pipelines.identifiers import enp_is_valid, snils_normalize
from pipelines.register.models import (
    FileContent,
    Insurer,
    InsurerAssignment,
    Notification,
    Person,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)

OUTCOMES = {str(o) for o in Outcome}
DONE = ("applied", "emitted")


@dataclass(frozen=True)
class Violation:
    code: str  # stable: I01…
    invariant: str
    ids: str  # where, as ids only

    def line(self) -> str:
        return f"{self.code} {self.invariant}: {self.ids}"

    def as_json(self) -> dict:
        return {"code": self.code, "invariant": self.invariant, "ids": self.ids}


INVARIANTS = {
    "I01": "every received record has exactly one known outcome",
    "I02": "the records of an applied file add up to the records it holds",
    "I03": "no file is left unfinished without a live run",
    "I04": "no run is running without a live process or task",
    "I05": "no ЕНП is held twice, and no person holds two active policies",
    "I06": "no two persons share a СНИЛС",
    "I07": "no two persons were enrolled from one birth act",
    "I08": "every ЕНП passes its check digit",
    "I09": "every issued policy has an insurer, an assignment and a written notice",
    "I10": "every archived file matches the hash the journal has for it",
    "I11": "every emitted file has its receipt (and ROGDZP acknowledgements) written",
    "I12": "the insurer-share ledger matches the assignments made by share and balances",
}


def _v(code: str, ids: str) -> Violation:
    return Violation(code, INVARIANTS[code], ids)


def check(session: Session, settings: Settings, *, hashes: bool = True) -> list[Violation]:
    """Every violation of every invariant, in invariant order."""
    found: list[Violation] = []
    for probe in (
        _outcomes,
        _counts_add_up,
        _unfinished_files,
        _running_runs,
        _enp_unique,
        _snils_unique,
        _act_unique,
        _enp_check_digits,
        _policies_notified,
        _share_ledger,
    ):
        found.extend(probe(session, settings))
    if hashes:
        found.extend(_archive_hashes(session, settings))
    found.extend(_receipts_written(session, settings))
    return found


def _outcomes(session: Session, _settings) -> Iterator[Violation]:
    rows = session.execute(
        select(ReceivedRecord.file_id, ReceivedRecord.seq, ReceivedRecord.outcome).where(
            ReceivedRecord.outcome.not_in(sorted(OUTCOMES))
        )
    )
    for file_id, seq, _outcome in rows:
        yield _v("I01", f"file {file_id} record {seq}")
    doubled = session.execute(
        select(ReceivedRecord.file_id, ReceivedRecord.seq)
        .group_by(ReceivedRecord.file_id, ReceivedRecord.seq)
        .having(func.count() > 1)
    )
    for file_id, seq in doubled:
        yield _v("I01", f"file {file_id} record {seq} has several outcomes")


def _counts_add_up(session: Session, _settings) -> Iterator[Violation]:
    journalled = dict(
        session.execute(
            select(ReceivedRecord.file_id, func.count()).group_by(ReceivedRecord.file_id)
        ).all()
    )
    for row in session.scalars(select(ReceivedFile).where(ReceivedFile.state.in_(DONE))):
        have = journalled.get(row.id, 0)
        if row.records_seen is not None and have != row.records_seen:
            yield _v("I02", f"file {row.id}: {row.records_seen} held, {have} with an outcome")
    for file_id in journalled:
        row = session.get(ReceivedFile, file_id)
        if row is None or row.state not in DONE:
            yield _v("I02", f"file {file_id} has outcomes but was never applied")


def _unfinished_files(session: Session, _settings) -> Iterator[Violation]:
    from pipelines.run import UNFINISHED, run_is_live

    now = datetime.now(UTC)
    for row in session.scalars(select(ReceivedFile).where(ReceivedFile.state.in_(UNFINISHED))):
        holder = row.owner_run_id or row.run_id
        if not run_is_live(session.get(Run, holder), now):
            yield _v("I03", f"file {row.id} is {row.state}, run {holder} is not live")


def _running_runs(session: Session, _settings) -> Iterator[Violation]:
    from pipelines.run import run_is_live

    now = datetime.now(UTC)
    for run in session.scalars(select(Run).where(Run.status == "running")):
        if not run_is_live(run, now):
            yield _v("I04", f"run {run.id} is running with no live owner")


def _enp_unique(session: Session, _settings) -> Iterator[Violation]:
    for enp, n in session.execute(
        select(Policy.enp, func.count()).group_by(Policy.enp).having(func.count() > 1)
    ):
        yield _v("I05", f"ЕНП {enp} held {n} times")
    for person_id, n in session.execute(
        select(Policy.person_id, func.count())
        .where(Policy.status == "active")
        .group_by(Policy.person_id)
        .having(func.count() > 1)
    ):
        yield _v("I05", f"person {person_id} holds {n} active policies")


def _snils_unique(session: Session, _settings) -> Iterator[Violation]:
    # by the digits, not the spelling: "112-233-445 95" and "11223344595" are one СНИЛС, which
    # the column's unique constraint alone would not see
    holders: dict[str, list[int]] = {}
    for person_id, snils in session.execute(
        select(Person.id, Person.snils).where(Person.snils.is_not(None))
    ):
        holders.setdefault(snils_normalize(snils) or snils, []).append(person_id)
    for ids in holders.values():
        if len(ids) > 1:
            yield _v("I06", "persons " + ", ".join(map(str, sorted(ids))) + " share one СНИЛС")


def _act_unique(session: Session, _settings) -> Iterator[Violation]:
    groups = session.execute(
        select(ReceivedRecord.record_key, func.count(distinct(ReceivedRecord.person_id)))
        .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .where(ReceivedFile.feed == "zags_births", ReceivedRecord.person_id.is_not(None))
        .group_by(ReceivedRecord.record_key)
        .having(func.count(distinct(ReceivedRecord.person_id)) > 1)
    )
    for act, n in groups:
        yield _v("I07", f"act {act} enrolled {n} persons")


def _enp_check_digits(session: Session, _settings) -> Iterator[Violation]:
    for (enp,) in session.execute(select(Policy.enp)):
        if not enp_is_valid(enp):
            yield _v("I08", f"ЕНП {enp}")


def _policies_notified(session: Session, settings: Settings) -> Iterator[Violation]:
    from pipelines.emit_run import notice_dir

    issued = session.scalars(select(Policy).where(Policy.issued_run_id.is_not(None)))
    for policy in issued:
        person = session.get(Person, policy.person_id)
        if person is None or not person.insurer_code:
            yield _v("I09", f"ЕНП {policy.enp}: no insurer")
            continue
        assigned = session.scalar(
            select(func.count()).where(InsurerAssignment.person_id == person.id)
        )
        if not assigned:
            yield _v("I09", f"ЕНП {policy.enp}: no insurer assignment")
        notes = session.scalars(select(Notification).where(Notification.enp == policy.enp)).all()
        if not notes:
            yield _v("I09", f"ЕНП {policy.enp}: no notification")
        for note in notes:
            written = note.notice_file and notice_dir(settings, note.run_id) / note.notice_file
            if not written or not Path(written).is_file():
                yield _v("I09", f"ЕНП {policy.enp}: notification {note.id} has no written notice")


def _share_ledger(session: Session, _settings) -> Iterator[Violation]:
    from pipelines.enrol.register_ops import SHARE_SCALE

    made = dict(
        session.execute(
            select(InsurerAssignment.insurer_code, func.count())
            .where(InsurerAssignment.basis == "fund_share")
            .group_by(InsurerAssignment.insurer_code)
        ).all()
    )
    insurers = list(session.scalars(select(Insurer).order_by(Insurer.code)))
    for insurer in insurers:
        if (insurer.share_count or 0) != made.get(insurer.code, 0):
            yield _v(
                "I12",
                f"insurer {insurer.code}: ledger counts {insurer.share_count}, "
                f"{made.get(insurer.code, 0)} assignments by share",
            )
        # while the shares hold, an insurer never lags or leads its quota by a whole person;
        # changes of shares and insurers leaving can add at most one each
        if abs(insurer.share_deficit or 0) > SHARE_SCALE * max(len(insurers), 1):
            yield _v("I12", f"insurer {insurer.code}: quota off by more than the ledger allows")
    if sum(i.share_deficit or 0 for i in insurers) != 0:
        yield _v("I12", "the insurers' quota deficits do not sum to zero")


def _archive_hashes(session: Session, _settings) -> Iterator[Violation]:
    for content in session.scalars(select(FileContent).where(FileContent.hashed.is_(True))):
        path = Path(content.archive_path)
        if not path.is_file():
            yield _v("I10", f"content {content.sha256[:12]}: archive missing")
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != content.sha256:
            yield _v("I10", f"content {content.sha256[:12]}: archived bytes differ")


def _receipts_written(session: Session, settings: Settings) -> Iterator[Violation]:
    from pipelines.emit_run import acknowledgements, receipt_dir

    for row in session.scalars(select(ReceivedFile).where(ReceivedFile.state == "emitted")):
        if (
            not row.receipt_name
            or not (receipt_dir(session, settings, row) / row.receipt_name).is_file()
        ):
            yield _v("I11", f"file {row.id}: receipt missing")
        missing = [p for p, _m in acknowledgements(session, settings, row) if not p.is_file()]
        if missing:
            yield _v("I11", f"file {row.id}: {len(missing)} acknowledgement(s) missing")
