"""One processing run, stage by stage: the code path the DAGs and ``erzl ingest`` share.

    start_run → recover → receive_files → process_file (each, in order) → finish_run

A received file is a unit of work with a durable state (models.ReceivedFile):

    received ─claim─► applying ─commit─► applied ─receipt─► emitted

Intake commits only the journal row. Applying a file — every record's outcome, every register
change and the move to ``applied`` — is one transaction. The receipt is written from committed
state, then the file moves to ``emitted``. A run holds its files by a lease on its own row
(owner process and an expiry it renews); a run that died — its process gone, or its lease
expired — is marked failed by the next run, which takes over its files where they stand.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from pipelines import errors, faults, intake
from pipelines.codes import FileStatus, Outcome
from pipelines.config import Settings
from pipelines.enrol.register_ops import sync_insurers
from pipelines.parse.xmlsafe import FileError
from pipelines.register import db
from pipelines.register.db import as_utc
from pipelines.register.models import (
    FileContent,
    Notification,
    Person,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)
from pipelines.validate import docs as validation_docs

log = logging.getLogger(__name__)

OUTCOMES = tuple(str(o) for o in Outcome)
REFUSING_CODES = {"F003", "F010", "F011", "F012", "F014"}  # the file is read but refused whole
UNFINISHED = ("received", "applying", "applied")  # file states a run still owes work on
APPLY_ATTEMPTS = 3  # a transaction that lost a race on a unique key is retried from the start
POLL_SECONDS = 0.5


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
    # the run that applied the file, when another one did (a re-send seen while in flight)
    applied_by: str | None = None

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
    recovered_runs: list[str] = field(default_factory=list)

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


# --- leases -----------------------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def owner_token() -> str:
    """This process, as a run's owner: host, pid and the pid's start time."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '-'}"


def _owner_gone(token: str | None) -> bool:
    """True when the owner is a process of this host that no longer runs. A process on another
    host cannot be looked at: only its lease tells."""
    if not token:
        return True
    host, _, rest = token.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return _process_start(int(pid)) != started


def run_is_live(run: Run | None, now: datetime | None = None) -> bool:
    """Whether a run is still working: running, its lease unexpired and — for a run of the
    command line, whose one process is its owner — its process alive. An Airflow run spans
    several task processes, so only its lease counts."""
    if run is None or run.status != "running" or run.lease_until is None:
        return False
    now = now or datetime.now(UTC)
    if as_utc(run.lease_until) < now:
        return False
    return run.trigger == "airflow" or not _owner_gone(run.owner)


def renew_lease(session, settings: Settings, run: Run) -> None:
    run.owner = owner_token()
    run.lease_until = datetime.now(UTC) + timedelta(seconds=settings.lease_seconds)


def _renew(settings: Settings, run_id: str) -> None:
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        if run is not None and run.status == "running":
            renew_lease(session, settings, run)


def release(settings: Settings, run_id: str, *, because: str, status: str = "failed") -> None:
    """End a run now (failed, unless said otherwise): its unfinished files are the next run's
    to take over."""
    ensure_schema(settings)
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        if run is not None and run.status == "running":
            now = datetime.now(UTC)
            run.status, run.finished_at, run.lease_until = status, now, now
            run.totals = {**(run.totals or {}), "failed_because": because}


# --- the steps of a run -----------------------------------------------------------------------


def start_run(
    settings: Settings, *, run_id: str | None = None, as_of: date | None = None, trigger: str
) -> str:
    """Open a run (or find the one with this id: a retried task must not open a second)."""
    ensure_schema(settings)
    run_id = run_id or new_run_id(trigger)
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        if run is None:
            run = Run(
                id=run_id,
                trigger=trigger,
                as_of=as_of or date.today(),
                started_at=datetime.now(UTC),
                status="running",
            )
            session.add(run)
        elif run.status == "failed":  # a retried task of a run another run gave up on
            run.status, run.finished_at = "running", None
        renew_lease(session, settings, run)
        sync_insurers(session, settings)
    faults.point("run.started")
    return run_id


def receive_files(
    settings: Settings, run_id: str, paths: list[Path], *, remove_after: bool = False
) -> list[int]:
    """Archive and journal each file; returns file ids in processing order.

    Each file's journal row is its own transaction, committed before the file is removed from
    where it was claimed. Births keep the order they were given in; РСВ reports are put in the
    order of their document date, then correction number, so a correction is applied after
    what it corrects. Bytes already journalled and not yet done are adopted, not journalled
    again.
    """
    entries: list[tuple[tuple, int]] = []
    for position, path in enumerate(paths):
        with db.session_scope(settings) as session:
            got = intake.receive(session, settings, run_id, path, claimed=remove_after)
            row = session.get(ReceivedFile, got.file_id)
            if not got.adopted and row.state == "received":  # read from the archived copy
                _recognise(row, Path(session.get(FileContent, row.sha256).archive_path))
            entries.append(((*_processing_order(row), position), row.id))
        faults.point("intake.journalled")
        if remove_after:
            path.unlink(missing_ok=True)
    ordered = []
    for _, file_id in sorted(entries):
        if file_id not in ordered:  # one content given twice in a run is one unit of work
            ordered.append(file_id)
    return ordered


def _recognise(row: ReceivedFile, path: Path) -> None:
    """The feed, and for РСВ the document date and correction that order it: journal facts,
    read without side effects. What cannot be read is decided when the file is applied."""
    try:
        row.feed, row.format = intake.detect_format(path)
        row.sender = row.feed  # birth files all come from ЕГР ЗАГС
        if row.feed == "fns_rsv":
            from pipelines.parse.rsv import read_header

            header = read_header(path)
            row.document_date, row.correction_no = header.document_date, header.correction_no
            row.sender = f"{header.payer_inn}/{header.payer_kpp or ''}"
    except FileError:
        pass


def recover(settings: Settings, run_id: str, *, feed: str | None = None) -> list[int]:
    """Take over what runs that died left: mark them failed, journal the files stranded in
    their work folders, and return every unfinished file of theirs (of ``feed``, when given)
    for this run to apply and emit. Their run-level outputs are written by :func:`finish_run`.
    """
    now = datetime.now(UTC)
    with db.session_scope(settings) as session:
        dead = _dead_runs(session, run_id, now)
        for other in dead:
            other.status, other.finished_at = "failed", now
            other.totals = {**(other.totals or {}), "failed_because": "died; taken over"}
        if dead:
            log.warning("runs that died were marked failed: %s", ", ".join(r.id for r in dead))
        stranded = intake.take_over_stranded(
            session, settings, run_id, lambda folder: _holds(session, folder, run_id, now)
        )
        # a dead run's files are taken over together, in processing order: a sender's files
        # are never split between two recovering runs
        stuck = _stuck_files(session, run_id, feed, now, lock=True)
        for row, _holder in stuck:
            row.owner_run_id = run_id
        run = session.get(Run, run_id)
        recovered = {*(run.totals or {}).get("recovered_runs", []), *(r.id for r in dead)}
        recovered |= {holder for _, holder in stuck if holder != run_id}
        run.totals = {**(run.totals or {}), "recovered_runs": sorted(recovered)}
        adopted = [row.id for row, _ in stuck]
    if adopted:
        log.warning("taking over %d unfinished file(s) of runs that died", len(adopted))
    journalled = receive_files(settings, run_id, stranded, remove_after=True)
    return list(dict.fromkeys([*adopted, *journalled]))


def has_unfinished_work(settings: Settings, run_id: str, *, feed: str | None = None) -> bool:
    """Whether :func:`recover` would find anything: a run that died, a file a dead run left
    unfinished, or a dead run's work folder. Read only, so an idle poll writes nothing."""
    ensure_schema(settings)
    now = datetime.now(UTC)
    with db.session_scope(settings) as session:
        if _dead_runs(session, run_id, now) or _stuck_files(session, run_id, feed, now):
            return True
        if _runs_owing_notices(session, run_id):
            return True
        folders = settings.work.iterdir() if settings.work.is_dir() else ()
        return any(
            folder.is_dir() and not _holds(session, folder.name, run_id, now) for folder in folders
        )


def _dead_runs(session, run_id: str, now: datetime) -> list[Run]:
    """Runs other than this one still marked running whose owner is gone."""
    running = session.scalars(select(Run).where(Run.status == "running", Run.id != run_id))
    return [other for other in running if not run_is_live(other, now)]


def _holds(session, holder: str, run_id: str, now: datetime) -> bool:
    """Whether ``holder`` (a run id, or a work folder named after one) is this run or live."""
    return holder == intake.safe_name(run_id) or run_is_live(session.get(Run, holder), now)


def _stuck_files(
    session, run_id: str, feed: str | None, now: datetime, *, lock: bool = False
) -> list[tuple[ReceivedFile, str]]:
    """Unfinished files (of ``feed``, or not recognised) that no live run but this one holds,
    each with the run that held it, in processing order. With ``lock`` the rows are locked
    (PostgreSQL; SQLite serialises writers anyway), so of two runs recovering at once the
    second sees what the first took."""
    stuck = []
    rows = select(ReceivedFile).where(ReceivedFile.state.in_(UNFINISHED)).order_by(ReceivedFile.id)
    if lock:
        rows = rows.with_for_update()
    for row in sorted(session.scalars(rows), key=lambda r: (*_processing_order(r), r.id)):
        holder = row.owner_run_id or row.run_id
        if holder != run_id and _holds(session, holder, run_id, now):
            continue
        if feed is None or row.feed in (feed, None):
            stuck.append((row, holder))
    return stuck


def files_of_run(settings: Settings, run_id: str) -> list[int]:
    """Every file a run journalled or holds, in processing order (as receive_files orders)."""
    with db.session_scope(settings) as session:
        rows = session.scalars(
            select(ReceivedFile).where(
                or_(ReceivedFile.run_id == run_id, ReceivedFile.owner_run_id == run_id)
            )
        ).all()
        return [row.id for row in sorted(rows, key=lambda r: (*_processing_order(r), r.id))]


def work_groups(settings: Settings, file_ids: list[int]) -> list[list[int]]:
    """The files split by sender, each group in processing order: a sender's files (an РСВ
    payer's report and its corrections) are applied one after the other; groups of different
    senders are independent and may run side by side (work_units: one DAG task per file)."""
    with db.session_scope(settings) as session:
        rows = [session.get(ReceivedFile, file_id) for file_id in file_ids]
    groups: dict[tuple, list[int]] = {}
    for row in sorted(rows, key=lambda r: (*_processing_order(r), file_ids.index(r.id))):
        key = (row.feed, row.sender) if row.sender else ("file", row.id)
        groups.setdefault(key, []).append(row.id)
    return list(groups.values())


def work_units(settings: Settings, run_id: str, groups: list[list[int]]) -> list[dict]:
    """One unit of work per file, each naming the file it must follow (the sender's previous
    file, or the original of a copy): the first files of every sender first, so independent
    files are taken up side by side."""
    with db.session_scope(settings) as session:
        rows = {
            row.id: (row.name, row.duplicate_of)
            for row in session.scalars(
                select(ReceivedFile).where(ReceivedFile.id.in_([f for g in groups for f in g]))
            )
        }
    units = []
    for position in range(max(map(len, groups), default=0)):
        for group in groups:
            if position < len(group):
                file_id = group[position]
                name, original = rows.get(file_id, ("", None))
                after = group[position - 1] if position else None
                if after is None and original in rows:  # a copy follows its original
                    after = original
                units.append(
                    {
                        "run_id": run_id,
                        "file_id": file_id,
                        "after": after,
                        "label": f"{file_id} {(name or '')[:200]}",  # journalled: one line
                    }
                )
    return units


def blocked_by(settings: Settings, run_id: str, after: int | None) -> str | None:
    """Why a file cannot be processed yet: ``waiting`` while the file it follows is not applied;
    ``failed`` when that file's task failed for good, or the run is no longer live (released,
    or nothing renewed its lease). None when it can go."""
    if after is None:
        return None
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, after)
        if row is not None and row.state in ("applied", "emitted"):
            return None
        run = session.get(Run, run_id)
        if after in ((run.totals or {}).get("failed_files", []) if run else []):
            return "failed"
        return "waiting" if run_is_live(run) else "failed"


def file_failed(settings: Settings, run_id: str, file_id: int) -> None:
    """Note that a file's task failed for good: the files that must follow it fail too, rather
    than wait; the next run takes them all over."""
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id, with_for_update=True)
        if run is not None:
            failed = [*(run.totals or {}).get("failed_files", []), file_id]
            run.totals = {**(run.totals or {}), "failed_files": sorted(set(failed))}


def _processing_order(row: ReceivedFile) -> tuple:
    """Undated files (births) first; РСВ reports by document date, then correction number."""
    return (row.document_date is not None, row.document_date or date.min, row.correction_no or 0)


def _claim(settings: Settings, run_id: str, file_id: int) -> str:
    """Take the file for this run: ``mine``, ``done`` (emitted already) or ``busy`` (a live run
    holds it). The row is locked while deciding, so two runs never both take it."""
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id, with_for_update=True)
        if row.state == "emitted":
            return "done"
        if row.duplicate_of is not None and row.state in ("received", "applying"):
            original = session.get(ReceivedFile, row.duplicate_of)
            if original.state not in ("applied", "emitted"):
                return "busy"  # a second copy waits for the original to be applied
        holder = row.owner_run_id
        if holder and holder != run_id and run_is_live(session.get(Run, holder)):
            return "busy"
        row.owner_run_id = run_id
        if row.state == "received":
            row.state = "applying"
        return "mine"


def process_file(settings: Settings, run_id: str, file_id: int) -> FileSummary:
    """Apply one received file and write its receipt, from wherever its state stands.

    A file another live run holds is waited for (up to ERZL_WAIT_SECONDS), then reported as it
    stands, with the run that applied it.
    """
    # left set when the file fails, so the one line the boundary prints says which file it was
    errors.current_file.set(file_id)
    with _collecting_less():
        summary = _process_file(settings, run_id, file_id)
    errors.current_file.set(None)
    return summary


# allocations between two collections of the youngest generation while a file is processed
FILE_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _collecting_less():
    """Python's cyclic garbage collector tuned for the work of one file, then put back.

    A file's batches make hundreds of thousands of short-lived objects, few of them in cycles.
    At the default threshold (700 allocations) the collector runs thousands of times per file,
    and each time an older generation comes due it walks the whole warm heap of the process
    (Airflow, Great Expectations, SQLAlchemy: millions of objects) — about a tenth of a birth
    file's time. The heap that was there before the file is frozen, out of every collection,
    and the youngest generation is collected less often; memory stays bounded by the batch.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], FILE_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _process_file(settings: Settings, run_id: str, file_id: int) -> FileSummary:
    _renew(settings, run_id)
    deadline = time.monotonic() + settings.wait_seconds
    tried_after_original = False
    while (verdict := _claim(settings, run_id, file_id)) == "busy":
        original = _original_in_flight(settings, run_id, file_id)
        if original == "applied":
            if not tried_after_original:  # applied since the claim was refused: claim again
                tried_after_original = True
                continue
            original = None  # the copy itself is held elsewhere: wait like any other file
        if original is not None:
            # a copy waits for its original as long as the run applying it lives; when that
            # run is gone, this one finishes the original first
            if original == "dead":
                _process_file(settings, run_id, _original_of(settings, file_id))
            else:
                _renew(settings, run_id)
                time.sleep(POLL_SECONDS)
            continue
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if verdict == "mine":
        faults.point("apply.claimed")
        _apply_with_retries(settings, run_id, file_id)
        faults.point("apply.committed")
        _emit_file(settings, file_id)
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id)
        summary = _summary(session, row)
        if verdict == "busy":
            summary.status = "in_flight"
        if row.owner_run_id != run_id:
            summary.applied_by = row.owner_run_id
        if row.receipt_name:
            summary.receipt = str(_receipt_dir(settings, session, row) / row.receipt_name)
    log.info("file %s: %s, %d record(s)", file_id, summary.status, summary.received)
    return summary


# PostgreSQL's answers to two transactions that crossed: a deadlock, a serialisation failure
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def _original_of(settings: Settings, file_id: int) -> int | None:
    with db.session_scope(settings) as session:
        return session.get(ReceivedFile, file_id).duplicate_of


def _original_in_flight(settings: Settings, run_id: str, file_id: int) -> str | None:
    """For a copy: ``applied`` once its original is (claim it again: it is a duplicate now),
    ``live`` while a live run holds the original, ``dead`` when none does; None for any other
    file."""
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id)
        if row.duplicate_of is None:
            return None
        original = session.get(ReceivedFile, row.duplicate_of)
        if original.state in ("applied", "emitted"):
            return "applied"
        holder = original.owner_run_id or original.run_id
        live = holder != run_id and run_is_live(session.get(Run, holder))
        return "live" if live else "dead"


def _retrying(settings: Settings, work, what: str):
    """Run ``work(session)`` in one transaction; start again when it lost a race — on a unique
    key (another run committed the same birth act or СНИЛС first: this time the key is there
    to be seen, and the work takes the path of a key applied before), or to a deadlock with
    another run's transaction (rolled back whole, so safe to run again)."""
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            with db.session_scope(settings) as session:
                return work(session)
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None)
            lost_race = isinstance(exc, IntegrityError) or sqlstate in RETRYABLE_SQLSTATES
            if not lost_race or attempt == APPLY_ATTEMPTS:
                raise
            log.warning("%s: lost a race to another run, trying again", what)
            time.sleep(POLL_SECONDS * attempt)
    return None


def _apply_with_retries(settings: Settings, run_id: str, file_id: int) -> None:
    def work(session) -> None:
        row = session.get(ReceivedFile, file_id, with_for_update=True)
        if row.owner_run_id != run_id or row.state not in ("received", "applying"):
            return  # applied already (by an earlier try), or taken over meanwhile
        with validation_docs.collecting() as validated:
            _apply(session, settings, session.get(Run, run_id), row)
        # the file's Data Docs page, from this try's validations: a retry writes it again
        validation_docs.publish(settings, row.run_id, row.id, row.name, validated)
        row.state = "applied"
        faults.point("apply.before_commit")

    _retrying(settings, work, f"file {file_id}")


def _apply(session, settings: Settings, run: Run, row: ReceivedFile) -> None:
    content = session.get(FileContent, row.sha256)
    path = Path(content.archive_path)
    counts: Counter = Counter()
    if row.duplicate_of is not None:
        _copy_as_duplicates(session, row)
        original = session.get(ReceivedFile, row.duplicate_of)
        row.feed, row.format = original.feed, original.format
        row.status = str(FileStatus.DUPLICATE)
        row.codes = ["F005"]
        counts[str(Outcome.DUPLICATE)] = original.records_seen or 0
    else:
        unreadable: FileError | None = None
        try:  # what the file says it is, kept whatever happens below (the receipt names it)
            row.feed, row.format = intake.detect_format(path)
        except FileError as error:
            unreadable = error
        savepoint = session.begin_nested()
        try:
            if unreadable is not None:
                raise unreadable
            counts = _apply_feed(session, settings, run, row, path)
            savepoint.commit()
        except FileError as error:
            savepoint.rollback()  # nothing of a refused or unreadable file is applied
            validation_docs.discard()  # nor is a Data Docs page written for it
            counts = Counter()
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
    row.records_seen = sum(counts[o] for o in OUTCOMES)
    row.counts = {k: counts[k] for k in ("enrolled", "policies_issued", "updated")}
    row.processed_at = datetime.now(UTC)


def _quarantine(
    settings: Settings, run_id: str, row: ReceivedFile, path: Path, error: FileError
) -> None:
    intake.quarantine(settings, run_id, path, row.name, error)
    row.status = str(FileStatus.QUARANTINED)
    row.codes = [error.code]
    row.detail = error.detail
    log.warning("file %s quarantined: %s", row.id, error.code)


def _apply_feed(session, settings: Settings, run: Run, row: ReceivedFile, path: Path) -> Counter:
    if row.feed == "zags_births":
        from pipelines.enrol.births import apply_births
        from pipelines.parse.birth_formats import birth_format

        reader = birth_format(row.format)
        with _schema_first(reader.validate_structure, path):
            return apply_births(
                session, settings, run.id, run.as_of, row.id, path, read=reader.read_checked
            )
    if row.feed == "fns_rsv":
        from pipelines.enrol.contributions import apply_rsv
        from pipelines.parse import rsv

        with _schema_first(rsv.validate_structure, path):
            return apply_rsv(session, settings, run.id, run.as_of, row, path)
    raise FileError("F004", "feed not recognised")


@contextlib.contextmanager
def _schema_first(validate_structure, path: Path) -> Iterator[None]:
    """The schema is checked as the records are read, in one pass: a record it refuses may
    have broken a later step first (a value too long for its column). The file is refused for
    breaking the schema, as a separate schema pass would have said; a file error stands."""
    try:
        yield
    except FileError:
        raise
    except Exception:
        validate_structure(path)
        raise


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


def _receipt_dir(settings: Settings, session, row: ReceivedFile) -> Path:
    from pipelines import emit_run

    return emit_run.receipt_dir(session, settings, row)


def _emit_file(settings: Settings, file_id: int) -> None:
    """Write the sender's receipt from committed state, then mark the file emitted. Written
    again after a crash, it is the same file."""
    from pipelines import emit_run

    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id, with_for_update=True)
        if row.state != "applied":
            return
        summary = _summary(session, row)
        counts = {k: getattr(summary, k) for k in ("received", *OUTCOMES)}
        receipt = emit_run.write_file_receipt(session, settings, row, counts)
        emit_run.write_acknowledgements(session, settings, row)
        faults.point("emit.receipt_written")
        row.receipt_name = receipt.name
        row.state = "emitted"


def finish_run(settings: Settings, run_id: str) -> RunSummary:
    """What is decided once per run — eligibility over the whole ledger — then what goes out:
    a notice per insurer, the list of policies issued, the analysts' report. The same for each
    run that died and was taken over by this one, so what it committed reaches its insurers."""
    from pipelines import emit_run

    errors.current_file.set(None)
    _renew(settings, run_id)

    def decide(session) -> list[str]:
        run = session.get(Run, run_id)
        recovered = list((run.totals or {}).get("recovered_runs", []))
        end_of_run: Counter = Counter()
        if _has_feed(session, [run_id, *recovered], "fns_rsv"):
            from pipelines.enrol.contributions import evaluate_eligibility

            end_of_run = evaluate_eligibility(session, settings, run_id, run.as_of)
        run.totals = {**(run.totals or {}), "end_of_run": dict(end_of_run)}
        faults.point("finish.decided")
        return recovered

    recovered = _retrying(settings, decide, f"run {run_id}")
    with db.session_scope(settings) as session:
        # and any other run that died owing its insurers a notice (also one whose own
        # recovery died before writing it)
        owing = sorted(set(recovered) | _runs_owing_notices(session, run_id))
    for dead_id in owing:
        with db.session_scope(settings) as session:
            dead = _sum_run(session, session.get(Run, dead_id))
            emit_run.write_notices(session, settings, dead_id)
            emit_run.write_policy_list(session, settings, dead_id)
            emit_run.write_report(session, settings, dead_id)
            faults.point("finish.recovered_emitted")
            run = session.get(Run, dead_id)
            run.totals = {**(run.totals or {}), **dead.as_json(), "finished_by": run_id}
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        summary = _sum_run(session, run)
        summary.recovered_runs = recovered
        run.totals = {**run.totals, **summary.as_json()}
        summary.notices = [str(p) for p in emit_run.write_notices(session, settings, run_id)]
        summary.policies_list = str(emit_run.write_policy_list(session, settings, run_id))
        # set before the pages are written, which show it; committed with them or not at all
        run.status, run.finished_at = "finished", datetime.now(UTC)
        summary.reports = [str(p) for p in emit_run.write_report(session, settings, run_id)]
        run.totals = {**run.totals, **summary.as_json()}
        faults.point("finish.emitted")
    return summary


def _runs_owing_notices(session, run_id: str) -> set[str]:
    """Runs other than this one, no longer live, with a notification not yet in a notice."""
    owing = session.scalars(
        select(Notification.run_id).where(Notification.notice_file.is_(None)).distinct()
    )
    now = datetime.now(UTC)
    return {
        other
        for other in owing
        if other != run_id and not run_is_live(session.get(Run, other), now)
    }


def _has_feed(session, run_ids: list[str], feed: str) -> bool:
    query = select(func.count()).where(
        or_(ReceivedFile.run_id.in_(run_ids), ReceivedFile.owner_run_id.in_(run_ids)),
        ReceivedFile.feed == feed,
    )
    return session.scalar(query) > 0


def _sum_run(session, run: Run) -> RunSummary:
    """A run's totals over the files it applied, and what it decided at its end."""
    summary = RunSummary(run_id=run.id, as_of=run.as_of)
    files = session.scalars(select(ReceivedFile).where(ReceivedFile.owner_run_id == run.id)).all()
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
    return summary


def ingest(
    settings: Settings,
    paths: list[Path],
    *,
    as_of: date | None = None,
    run_id: str | None = None,
    progress=None,
) -> tuple[list[FileSummary], RunSummary]:
    """``erzl ingest``: the given files as one run, the same steps the DAGs take — after taking
    over whatever runs that died left unfinished. ``progress(done, total, summary)`` is called
    after each file."""
    run_id = start_run(settings, run_id=run_id, as_of=as_of, trigger="cli")
    recovered = recover(settings, run_id)
    file_ids = list(dict.fromkeys([*recovered, *receive_files(settings, run_id, paths)]))
    summaries = []
    for done, file_id in enumerate(file_ids, start=1):
        summaries.append(process_file(settings, run_id, file_id))
        if progress is not None:
            progress(done, len(file_ids), summaries[-1])
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
        run = session.get(Run, run_id)
        if (run.totals or {}).get("renewal") is None:  # a retried task renews nothing twice
            counts = renew_foreign_policies(session, settings, run_id, as_of, dry_run=dry_run)
            run.totals = {"renewal": dict(counts), "dry_run": dry_run}
        counts = Counter(run.totals["renewal"])
    with db.session_scope(settings) as session:
        notices = [] if dry_run else emit_run.write_notices(session, settings, run_id)
        run = session.get(Run, run_id)
        run.status, run.finished_at = "finished", datetime.now(UTC)
        reports = emit_run.write_report(session, settings, run_id)
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
