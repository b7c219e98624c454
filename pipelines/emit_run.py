"""Build what a run sends out from the register, and hand it to the emit stage's writers.

The writers (pipelines.emit) take plain values; this module is the one place that reads the
register to make them, so a rerun of the last step writes the same files again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.orm import Session

from pipelines.codes import CATALOGUE
from pipelines.config import Settings
from pipelines.emit import safe_name
from pipelines.emit.model import (
    FileReport,
    InsurerNotice,
    IssuedPolicy,
    NoticeItem,
    Receipt,
    ReceiptRecord,
    RuleCount,
    RunReport,
)
from pipelines.register.db import as_utc
from pipelines.register.models import (
    FileContent,
    Insurer,
    Notification,
    Person,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)


def file_records(session: Session, file_id: int) -> list[ReceiptRecord]:
    """A received file's records and their outcomes, in file order."""
    return list(FileRecords(session, file_id))


# rows read from the register at a time when a file's records are streamed out
STREAM_ROWS = 5_000


@dataclass(frozen=True)
class FileRecords:
    """A received file's records, in file order, read from the register each time they are
    iterated, a few thousand rows at a time: a receipt of a million records is never held."""

    session: Session
    file_id: int

    def __iter__(self) -> Iterator[ReceiptRecord]:
        r = ReceivedRecord
        rows = self.session.execute(
            select(r.seq, r.record_key, r.outcome, r.codes, r.enp)
            .where(r.file_id == self.file_id)
            .order_by(r.seq)
            .execution_options(yield_per=STREAM_ROWS)
        )
        for seq, key, outcome, codes, enp in rows:
            yield ReceiptRecord(seq, key, outcome, tuple(codes or ()), enp)

    def codes(self) -> frozenset[str]:
        """Every code the file's records carry, from their distinct lists of codes (compared
        as text: PostgreSQL's json type has no equality)."""
        lists = self.session.scalars(
            select(cast(ReceivedRecord.codes, Text))
            .where(ReceivedRecord.file_id == self.file_id)
            .distinct()
        )
        return frozenset(code for text in lists if text for code in json.loads(text) or ())


def write_file_receipt(
    session: Session, settings: Settings, row: ReceivedFile, counts: dict[str, int]
) -> Path:
    """The sender's receipt for one file, under ``outbox/receipts/<run>/``."""
    from pipelines.emit.receipt import write_receipt

    duplicate_of = session.get(ReceivedFile, row.duplicate_of) if row.duplicate_of else None
    records = FileRecords(session, row.id)
    receipt = Receipt(
        file_name=row.name,
        feed=row.feed or "unknown",
        sha256=row.sha256 if session.get(FileContent, row.sha256).hashed else None,
        received_at=as_utc(row.received_at),
        processed_on=session.get(Run, row.run_id).as_of,
        status=row.status,
        file_codes=tuple(row.codes or ()),
        counts=counts,
        records=records,
        record_codes=records.codes(),
        duplicate_of=duplicate_of.name if duplicate_of else None,
        run_id=row.run_id,
        format=row.format,
        detail=row.detail,
    )
    return write_receipt(receipt, receipt_dir(session, settings, row))


# a ROGDZP message is acknowledged once it was read: whatever its records' outcomes, and again
# when the same file comes back (the registry re-sends what it saw no acknowledgement for)
ACKNOWLEDGED = {"accepted", "partially_accepted", "duplicate"}


def acknowledgements(session: Session, settings: Settings, row: ReceivedFile) -> list:
    """Where each acknowledgement of a file goes and what it acknowledges: ``(path, message)``
    for each message of a ROGDZP file (``ROGDZPResponse_<ИдСвед>.xml`` beside the receipt);
    none for other formats, or for a file that could not be read (its receipt says why)."""
    from pipelines.parse.birth_formats import FORMATS

    reader = FORMATS.get(row.format or "")
    if reader is None or reader.messages is None or row.status not in ACKNOWLEDGED:
        return []
    path = Path(session.get(FileContent, row.sha256).archive_path)
    out_dir = receipt_dir(session, settings, row)
    return [
        (out_dir / f"ROGDZPResponse_{safe_name(message.message_id)[:120]}.xml", message)
        for message in dict.fromkeys(reader.messages(path))
    ]


def write_acknowledgements(session: Session, settings: Settings, row: ReceivedFile) -> list[Path]:
    """``ROGDZPResponse @ИдСвед @КодОбр="1"`` for each message of a ROGDZP file."""
    from pipelines.emit import write_atomic, xml_bytes
    from pipelines.parse import rogdzp

    return [
        write_atomic(
            path,
            xml_bytes(rogdzp.acknowledgement(message), rogdzp.SCHEMA_FILES[message.version]),
            kind="acknowledgement",
        )
        for path, message in acknowledgements(session, settings, row)
    ]


def receipt_dir(session: Session, settings: Settings, row: ReceivedFile) -> Path:
    """``outbox/receipts/<run that journalled the file>/``, and a folder of the file's own when
    an earlier file of that run had the same name, so no receipt overwrites another."""
    out_dir = settings.outbox / "receipts" / safe_name(row.run_id)
    same_name_before = session.scalar(
        select(func.count()).where(
            ReceivedFile.run_id == row.run_id,
            ReceivedFile.name == row.name,
            ReceivedFile.id < row.id,
        )
    )
    return out_dir / str(row.id) if same_name_before else out_dir


def notice_dir(settings: Settings, run_id: str) -> Path:
    """``outbox/notices/<run>/``: where a run's insurer notices are written."""
    return settings.outbox / "notices" / safe_name(run_id)


def write_notices(session: Session, settings: Settings, run_id: str) -> list[Path]:
    """When the run assigned, renewed or lapsed anyone: a notice for every active insurer,
    listing its people (possibly none, so each insurer knows the run happened), and for any other
    insurer the run has news for. A run with no news — a re-send — writes none."""
    from pipelines.emit.notice import write_notice

    run = session.get(Run, run_id)
    with_news = dict(
        session.execute(
            _notified(Notification.insurer_code, func.count())
            .where(Notification.run_id == run_id)
            .group_by(Notification.insurer_code)
        ).all()
    )
    out_dir = notice_dir(settings, run_id)
    written = []
    active = session.scalars(select(Insurer.code).where(Insurer.active.is_(True))).all()
    for code in sorted(set(active) | set(with_news)) if with_news else []:
        insurer = session.get(Insurer, code)
        notice = InsurerNotice(
            insurer_code=code,
            insurer_name=insurer.name,
            run_id=run_id,
            created_on=run.as_of,
            fund_region=settings.region,
            items=NoticeItems(session, run_id, code, run.as_of),
            count=with_news.get(code, 0),
        )
        path = write_notice(notice, out_dir)
        session.execute(
            update(Notification)
            .where(Notification.run_id == run_id, Notification.insurer_code == code)
            .values(notice_file=path.name)
        )
        written.append(path)
    return written


def _notified(*columns):
    """A select of ``columns`` over the notifications with their person and policy: the people a
    notice lists and the count in its head come from the same rows."""
    return (
        select(*columns)
        .select_from(Notification)
        .join(Person, Person.id == Notification.person_id)
        .join(Policy, Policy.enp == Notification.enp)
    )


@dataclass(frozen=True)
class NoticeItems:
    """The people a run notifies one insurer of, in the order they were notified, read from the
    register each time they are iterated, a few thousand rows at a time (plain rows, not ORM
    objects): a run may notify of hundreds of thousands of people."""

    session: Session
    run_id: str
    insurer_code: str
    as_of: date

    def __iter__(self) -> Iterator[NoticeItem]:
        rows = self.session.execute(
            _notified(
                Notification.enp,
                Notification.event,
                Notification.basis,
                Person.snils,
                Person.last_name,
                Person.first_name,
                Person.middle_name,
                Person.birth_date,
                Person.sex,
                Policy.valid_from,
                Policy.valid_to,
                ReceivedRecord.record_key,
                ReceivedFile.name.label("source_file"),
            )
            .outerjoin(ReceivedRecord, ReceivedRecord.id == Notification.record_id)
            .outerjoin(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
            .where(
                Notification.run_id == self.run_id,
                Notification.insurer_code == self.insurer_code,
            )
            .order_by(Notification.id)
            .execution_options(yield_per=STREAM_ROWS)
        )
        for note in rows:
            yield NoticeItem(
                enp=note.enp,
                snils=note.snils,
                last_name=note.last_name,
                first_name=note.first_name,
                middle_name=note.middle_name,
                birth_date=note.birth_date,
                sex=note.sex,
                event=note.event,
                policy_valid_from=note.valid_from or self.as_of,
                policy_valid_to=note.valid_to,
                assigned_on=self.as_of,
                basis=note.basis,
                source_file=note.source_file,
                record_key=note.record_key,
            )


def write_policy_list(session: Session, settings: Settings, run_id: str) -> Path:
    """The machine-readable list of the policies issued (or renewed) in the run."""
    from pipelines.emit.policies import write_policies

    rows = session.execute(
        select(
            Policy.enp,
            Policy.status,
            Policy.valid_from,
            Policy.valid_to,
            Policy.reason,
            Person.id.label("person_id"),
            Person.insurer_code,
            Person.origin,
            ReceivedRecord.record_key,
            ReceivedFile.feed,
            ReceivedFile.name.label("source_file"),
        )
        .join(Person, Person.id == Policy.person_id)
        .outerjoin(ReceivedRecord, ReceivedRecord.id == Policy.issued_record_id)
        .outerjoin(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .where(Policy.issued_run_id == run_id)
        .order_by(Policy.enp)
        .execution_options(yield_per=STREAM_ROWS)
    )
    issued = (
        IssuedPolicy(
            enp=policy.enp,
            status=policy.status,
            valid_from=policy.valid_from,
            valid_to=policy.valid_to,
            insurer_code=policy.insurer_code or "",
            person_ref=str(policy.person_id),
            source_feed=policy.feed or policy.origin,
            source_file=policy.source_file,
            record_key=policy.record_key,
            reason=policy.reason or "",
        )
        for policy in rows
    )
    return write_policies(issued, settings.outbox / "policies", run_id)


def write_report(session: Session, settings: Settings, run_id: str) -> list[Path]:
    """The analysts' validation report: per file, per rule, with record references, as JSON,
    and the console's static pages of the run (its page, its files', the runs index)."""
    from pipelines.emit.report import write_run_report
    from pipelines.run import OUTCOMES

    run = session.get(Run, run_id)
    files = []
    run_rules: Counter = Counter()
    for row in session.scalars(
        select(ReceivedFile).where(ReceivedFile.owner_run_id == run_id).order_by(ReceivedFile.id)
    ):
        records = file_records(session, row.id)
        counts = Counter(r.outcome for r in records)
        # a record-level code once per record; a file-level one (F…) once for the file, even
        # when its records carry it too (a duplicate file's records are each F005)
        rules = Counter(
            code for r in records for code in (r.codes or ()) if not code.startswith("F")
        )
        rules.update(dict.fromkeys(row.codes or (), 1))
        run_rules.update(rules)
        files.append(
            FileReport(
                file_name=row.name,
                feed=row.feed or "unknown",
                status=row.status,
                file_codes=tuple(row.codes or ()),
                counts={"received": len(records), **{o: counts.get(o, 0) for o in OUTCOMES}},
                rule_counts=_rule_counts(rules),
                records=tuple(r for r in records if r.codes),
            )
        )
    totals = {k: v for k, v in (run.totals or {}).items() if isinstance(v, int)}
    totals["notifications"] = len(
        session.scalars(select(Notification.id).where(Notification.run_id == run_id)).all()
    )
    report = RunReport(
        run_id=run_id,
        as_of=run.as_of,
        started_at=as_utc(run.started_at),
        finished_at=datetime.now(UTC),
        files=tuple(files),
        totals=totals,
        run_codes=_rule_counts(run_rules),
    )
    from pipelines.console.static import write_run_pages

    out = settings.outbox / "reports"
    pages = write_run_pages(session, settings, run_id, out)
    return [write_run_report(report, out), pages[0]]  # the JSON and the run's page


def _rule_counts(counter: Counter) -> tuple[RuleCount, ...]:
    return tuple(RuleCount.of(code, n) for code, n in sorted(counter.items()) if code in CATALOGUE)
