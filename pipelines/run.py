"""One processing run, stage by stage: the code path the DAGs and ``erzl ingest`` share.

    start_run → receive_files → process_file (each, in order) → finish_run

Each step is a transaction keyed by what it was given (run id, file id), so re-running a step
after a failure finds its work done, or redoes it from the start, never half of it.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from pipelines import intake
from pipelines.codes import FileStatus, Outcome
from pipelines.config import Settings
from pipelines.enrol.register_ops import sync_insurers
from pipelines.parse.xmlsafe import FileError
from pipelines.register import db
from pipelines.register.models import (
    FileContent,
    Person,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)

log = logging.getLogger(__name__)

OUTCOMES = tuple(str(o) for o in Outcome)
REFUSING_CODES = {"F003", "F010", "F011", "F012"}  # the file is read but refused whole


@dataclass
class FileSummary:
    file: str
    feed: str | None
    status: str
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    review: int = 0
    duplicate: int = 0
    not_applicable: int = 0
    enrolled: int = 0
    policies_issued: int = 0
    codes: list[str] = field(default_factory=list)
    receipt: str | None = None
    file_id: int | None = None

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class RunSummary:
    run_id: str
    as_of: date
    files: int = 0
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    review: int = 0
    duplicate: int = 0
    not_applicable: int = 0
    enrolled: int = 0
    policies_issued: int = 0
    notices: list[str] = field(default_factory=list)
    policies_list: str | None = None
    reports: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return {"run": True, **data}


_upgraded: set[str] = set()


def ensure_schema(settings: Settings) -> None:
    """Apply migrations once per process and database (other commands do it on first use)."""
    if settings.database_url not in _upgraded:
        db.upgrade(settings)
        _upgraded.add(settings.database_url)


def new_run_id(trigger: str) -> str:
    return f"{trigger}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def start_run(
    settings: Settings, *, run_id: str | None = None, as_of: date | None = None, trigger: str
) -> str:
    """Open a run (or find the one with this id: a retried task must not open a second)."""
    ensure_schema(settings)
    run_id = run_id or new_run_id(trigger)
    with db.session_scope(settings) as session:
        if session.get(Run, run_id) is None:
            session.add(
                Run(
                    id=run_id,
                    trigger=trigger,
                    as_of=as_of or date.today(),
                    started_at=datetime.now(UTC),
                    status="running",
                )
            )
        sync_insurers(session, settings)
    return run_id


def receive_files(
    settings: Settings, run_id: str, paths: list[Path], *, remove_after: bool = False
) -> list[int]:
    """Archive and journal each file, recognise its feed; returns file ids in processing order.

    Births keep the order they were given in; РСВ reports are put in the order of their
    document date, then correction number, so a correction is applied after what it corrects.
    """
    entries: list[tuple[tuple, int]] = []
    for position, path in enumerate(paths):
        with db.session_scope(settings) as session:
            row = intake.receive(session, settings, run_id, path)
            if row.duplicate_of is None:
                _recognise(settings, run_id, row, path)
            else:
                original = session.get(ReceivedFile, row.duplicate_of)
                row.feed = original.feed
                row.document_date = original.document_date
                row.correction_no = original.correction_no
            entries.append(((*_processing_order(row), position), row.id))
        if remove_after:
            path.unlink(missing_ok=True)
    return [file_id for _, file_id in sorted(entries)]


def files_of_run(settings: Settings, run_id: str) -> list[int]:
    """Every file journalled in a run, in processing order (as receive_files orders them)."""
    with db.session_scope(settings) as session:
        rows = session.scalars(select(ReceivedFile).where(ReceivedFile.run_id == run_id)).all()
        return [row.id for row in sorted(rows, key=lambda r: (*_processing_order(r), r.id))]


def _processing_order(row: ReceivedFile) -> tuple:
    """Undated files (births) first; РСВ reports by document date, then correction number."""
    return (row.document_date is not None, row.document_date or date.min, row.correction_no or 0)


def _recognise(settings: Settings, run_id: str, row: ReceivedFile, path: Path) -> None:
    try:
        if path.stat().st_size > settings.max_file_bytes:
            raise FileError("F007", "file is larger than ERZL_MAX_FILE_MB")
        row.feed = intake.detect_feed(path)
        if row.feed == "fns_rsv":
            from pipelines.parse.rsv import read_header

            header = read_header(path)
            row.document_date, row.correction_no = header.document_date, header.correction_no
    except FileError as error:
        _quarantine(settings, run_id, row, path, error)


def _quarantine(
    settings: Settings, run_id: str, row: ReceivedFile, path: Path, error: FileError
) -> None:
    intake.quarantine(settings, run_id, path, row.name, error)
    row.status = str(FileStatus.QUARANTINED)
    row.codes = [error.code]
    row.detail = error.detail
    log.warning("file %s quarantined: %s", row.id, error.code)


def process_file(settings: Settings, run_id: str, file_id: int) -> FileSummary:
    """Validate, link and apply one received file, then write its receipt."""
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id)
        run = session.get(Run, run_id)
        if row.status == "received":
            _process(session, settings, run, row)
        summary = _summary(session, row)
    receipt = _write_receipt(settings, file_id)
    with db.session_scope(settings) as session:
        session.get(ReceivedFile, file_id).receipt_name = receipt.name
    summary.receipt = str(receipt)
    log.info("file %s: %s, %d record(s)", file_id, summary.status, summary.received)
    return summary


def _process(session, settings: Settings, run: Run, row: ReceivedFile) -> None:
    path = Path(session.get(FileContent, row.sha256).archive_path)
    counts: Counter = Counter()
    if row.duplicate_of is not None:
        _copy_as_duplicates(session, row)
        row.status = str(FileStatus.DUPLICATE)
        row.codes = ["F005"]
    else:
        savepoint = session.begin_nested()
        try:
            counts = _apply_feed(session, settings, run, row, path)
            savepoint.commit()
        except FileError as error:
            savepoint.rollback()  # nothing of a refused or unreadable file is applied
            if error.code in REFUSING_CODES:
                row.status = str(FileStatus.REJECTED)
                row.codes = [error.code]
                row.detail = error.detail
            else:
                _quarantine(settings, run.id, row, path, error)
        else:
            if row.status == "received":  # a feed may refuse a file whole and say so itself
                held = counts[str(Outcome.REJECTED)] + counts[str(Outcome.REVIEW)]
                row.status = str(FileStatus.PARTIALLY_ACCEPTED if held else FileStatus.ACCEPTED)
    row.counts = {k: counts[k] for k in ("enrolled", "policies_issued", "updated")}
    row.processed_at = datetime.now(UTC)


def _apply_feed(session, settings: Settings, run: Run, row: ReceivedFile, path: Path) -> Counter:
    if row.feed == "zags_births":
        from pipelines.enrol.births import apply_births
        from pipelines.parse.zags import validate_structure

        validate_structure(path)
        return apply_births(session, settings, run.id, run.as_of, row.id, path)
    if row.feed == "fns_rsv":
        from pipelines.enrol.contributions import apply_rsv

        return apply_rsv(session, settings, run.id, run.as_of, row, path)
    raise FileError("F004", "feed not recognised")


def _copy_as_duplicates(session, row: ReceivedFile) -> None:
    """A file received before: each of its records is accounted for again, as a duplicate."""
    original = session.scalars(
        select(ReceivedRecord)
        .where(ReceivedRecord.file_id == row.duplicate_of)
        .order_by(ReceivedRecord.seq)
    )
    for record in original:
        session.add(
            ReceivedRecord(
                file_id=row.id,
                seq=record.seq,
                record_key=record.record_key,
                version=record.version,
                outcome=str(Outcome.DUPLICATE),
                codes=["F005"],
            )
        )
    session.flush()


def _summary(session, row: ReceivedFile) -> FileSummary:
    by_outcome = dict(
        session.execute(
            select(ReceivedRecord.outcome, func.count())
            .where(ReceivedRecord.file_id == row.id)
            .group_by(ReceivedRecord.outcome)
        ).all()
    )
    effects = row.counts or {}
    summary = FileSummary(
        file=row.name,
        feed=row.feed,
        status=row.status,
        codes=list(row.codes or []),
        file_id=row.id,
        enrolled=effects.get("enrolled", 0),
        policies_issued=effects.get("policies_issued", 0),
        **{o: by_outcome.get(o, 0) for o in OUTCOMES},
    )
    summary.received = sum(by_outcome.values())
    return summary


def _write_receipt(settings: Settings, file_id: int) -> Path:
    from pipelines import emit_run

    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id)
        summary = _summary(session, row)
        counts = {k: getattr(summary, k) for k in ("received", *OUTCOMES)}
        return emit_run.write_file_receipt(session, settings, row, counts)


def finish_run(settings: Settings, run_id: str) -> RunSummary:
    """What is decided once per run — eligibility over the whole ledger — then what goes out:
    a notice per insurer, the list of policies issued, the analysts' report."""
    from pipelines import emit_run

    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        end_of_run: Counter = Counter()
        if _has_feed(session, run_id, "fns_rsv"):
            from pipelines.enrol.contributions import evaluate_eligibility

            end_of_run = evaluate_eligibility(session, settings, run_id, run.as_of)
        run.totals = {"end_of_run": dict(end_of_run)}
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        summary = RunSummary(run_id=run_id, as_of=run.as_of)
        _totals(session, run, summary)
        run.totals = {**run.totals, **summary.as_json()}
        summary.notices = [str(p) for p in emit_run.write_notices(session, settings, run_id)]
        summary.policies_list = str(emit_run.write_policy_list(session, settings, run_id))
        summary.reports = [str(p) for p in emit_run.write_report(session, settings, run_id)]
        run.totals = {**run.totals, **summary.as_json()}
        run.status, run.finished_at = "finished", datetime.now(UTC)
    return summary


def _has_feed(session, run_id: str, feed: str) -> bool:
    query = select(func.count()).where(ReceivedFile.run_id == run_id, ReceivedFile.feed == feed)
    return session.scalar(query) > 0


def _totals(session, run: Run, summary: RunSummary) -> None:
    files = session.scalars(select(ReceivedFile).where(ReceivedFile.run_id == run.id)).all()
    summary.files = len(files)
    for row in files:
        one = _summary(session, row)
        for name in ("received", *OUTCOMES, "enrolled", "policies_issued"):
            setattr(summary, name, getattr(summary, name) + getattr(one, name))
    # what the run decided at its end, over the whole ledger, on top of the per-file counts
    end_of_run = (run.totals or {}).get("end_of_run", {})
    summary.enrolled += end_of_run.get("enrolled", 0)
    summary.policies_issued += end_of_run.get("policies_issued", 0)
    summary.review += end_of_run.get("review", 0)


def ingest(
    settings: Settings, paths: list[Path], *, as_of: date | None = None, run_id: str | None = None
) -> tuple[list[FileSummary], RunSummary]:
    """``erzl ingest``: the given files as one run, the same steps the DAGs take."""
    run_id = start_run(settings, run_id=run_id, as_of=as_of, trigger="cli")
    file_ids = receive_files(settings, run_id, paths)
    summaries = [process_file(settings, run_id, file_id) for file_id in file_ids]
    return summaries, finish_run(settings, run_id)


def counts_of_persons(settings: Settings) -> dict[str, int]:
    with db.session_scope(settings) as session:
        return {
            "persons": session.scalar(select(func.count()).select_from(Person)),
            "policies": session.scalar(select(func.count()).select_from(Policy)),
        }


def renew(settings: Settings, *, as_of: date, dry_run: bool, run_id: str | None = None) -> dict:
    """The yearly renewal as one run: renew or lapse, then notices and the report."""
    from pipelines import emit_run
    from pipelines.enrol.renewal import renew_foreign_policies

    run_id = start_run(settings, run_id=run_id, as_of=as_of, trigger="renewal")
    with db.session_scope(settings) as session:
        counts = renew_foreign_policies(session, settings, run_id, as_of, dry_run=dry_run)
        run = session.get(Run, run_id)
        run.totals = {"renewal": dict(counts), "dry_run": dry_run}
    with db.session_scope(settings) as session:
        notices = [] if dry_run else emit_run.write_notices(session, settings, run_id)
        reports = emit_run.write_report(session, settings, run_id)
        run = session.get(Run, run_id)
        run.status, run.finished_at = "finished", datetime.now(UTC)
    return {
        "run": True,
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "dry_run": dry_run,
        "renewed": counts["renewed"],
        "lapsed": counts["lapsed"],
        "held_for_review": counts["held_for_review"],
        "notices": [str(p) for p in notices],
        "reports": [str(p) for p in reports],
    }
