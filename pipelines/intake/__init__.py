"""Intake stage: claim dropped files exactly once, archive them by hash, recognise the feed.

Nothing here parses a record. A file's bytes are archived before anything else happens, so the
raw input is kept, immutably, whatever later stages make of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines import faults
from pipelines.config import Settings
from pipelines.emit import bounded_name, safe_name, write_atomic
from pipelines.parse.xmlsafe import FileError, refuse_doctype
from pipelines.register.db import insert_ignore
from pipelines.register.models import FileContent, ReceivedFile, Run

log = logging.getLogger(__name__)

FEEDS = ("zags_births", "fns_rsv")
_IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Civil-registry namespaces: ROGDINF answers (a request of the fund's) and ROGDZP pushes, the
# version the URI's last segment. Which versions are read is the parsers' business; a version
# they do not read is still recognised as a birth file, so it is refused as "unsupported version"
# (F014), not as an unknown feed.
_ZAGS_NAMESPACES = {
    "urn://x-artefacts-zags-rogdinf/root/112-51/": ("ROGDINF", {"ROGDINFResponse"}),
    "urn://x-artefacts-zags-rogdzp/root/112-23/": ("ROGDZP", {"Request", "ROGDZPRequest"}),
}
_VERSION = re.compile(r"\d{1,2}(?:\.\d{1,3}){1,3}")  # 5.08, 4.0.1: never a date or a name


def shown_version(value: str | None) -> str:
    """A version string from a file, as it may appear in a receipt or a log: '?' unless it is
    short and plain (the file is hostile; a version is never personal data, but it could be
    anything)."""
    value = (value or "").strip()
    return value if _VERSION.fullmatch(value) else "?"


def detect_feed(path: Path) -> str:
    """The feed a file belongs to, from its content (see :func:`detect_format`)."""
    return detect_format(path)[0]


def detect_format(path: Path) -> tuple[str, str]:
    """The feed a file belongs to and the format it names: ``("zags_births", "ROGDZP 4.0.1")``,
    ``("fns_rsv", "РСВ 5.06")``. Read from the root element and, for РСВ, the КНД; whether that
    version is one the pipeline reads is decided when the file is applied (F014).

    Raises FileError F002 (DTD), F001 (not XML), F004 (XML of no known feed), F007 (empty).
    """
    refuse_doctype(path)
    try:
        context = etree.iterparse(
            str(path),
            events=("start",),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
        )
        root = None
        for _event, elem in context:
            if root is None:
                root = elem
                zags = _zags_format(elem.tag)
                if zags is not None:
                    return "zags_births", zags
                if elem.tag != "Файл":
                    break
            elif elem.tag == "Документ":
                if elem.get("КНД") == "1151111":
                    return "fns_rsv", f"РСВ {shown_version(root.get('ВерсФорм'))}"
                break
    except etree.XMLSyntaxError as exc:
        raise FileError("F001", f"not well-formed XML (line {exc.lineno})") from None
    except (UnicodeDecodeError, LookupError):
        raise FileError("F001", "cannot decode the file") from None
    raise FileError("F004", "root element is of no known feed")


def _zags_format(tag: str) -> str | None:
    qname = etree.QName(tag)
    base, _, version = (qname.namespace or "").rpartition("/")
    known = _ZAGS_NAMESPACES.get(base + "/")
    if known is None or qname.localname not in known[1]:
        return None
    return f"{known[0]} {shown_version(version)}"


def waiting(folder: Path, settle_seconds: float = 0.0) -> list[Path]:
    """Complete files in a folder, oldest first; a file that vanishes meanwhile is skipped.

    A file modified less than ``settle_seconds`` ago may still be being written: it is left for
    the next run (a sender should write under a temporary suffix and rename; not all do).
    """
    found = []
    settled_before = time.time_ns() - int(settle_seconds * 1e9)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or Path(entry.name).suffix in _IGNORED_SUFFIXES:
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # another run took it between the listing and the look
            if stat.st_mtime_ns > settled_before:
                log.info("a file in %s is still changing: left for the next run", folder.name)
                continue
            found.append((stat.st_mtime_ns, entry.name))
    return [folder / name for _, name in sorted(found)]


def claim_inbox(settings: Settings, feed: str, run_id: str) -> list[Path]:
    """Move every settled file waiting in the feed's inbox into this run's work folder.

    ``os.rename`` within one file system is atomic: when two runs race for a file, exactly one
    rename succeeds and the other sees it gone. Files already in the run's work folder — moved by
    an earlier try of the same run that failed before journalling them — are claimed again, so a
    retry never strands them; a dead run's folder is taken over by :func:`take_over_stranded`.
    """
    inbox = settings.feed_inbox(feed)
    inbox.mkdir(parents=True, exist_ok=True)
    target = settings.work / safe_name(run_id)
    claimed = waiting(target) if target.is_dir() else []
    for path in waiting(inbox, settings.settle_seconds):
        destination = _move_into(target, path)
        if destination is None:
            continue  # another run claimed it first
        faults.point("inbox.claimed")
        claimed.append(destination)
    log.info("claimed %d file(s) from the %s inbox", len(claimed), feed)
    return claimed


def _move_into(folder: Path, path: Path) -> Path | None:
    """Rename ``path`` into ``folder`` (under a free name); None when another run took it."""
    folder.mkdir(parents=True, exist_ok=True)
    destination = _free_name(folder, path.name)
    try:
        os.rename(path, destination)
    except FileNotFoundError:
        return None
    return destination


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or a distinct name beside it when that is taken (one name twice)."""
    destination = folder / name
    if destination.exists():
        stem, suffix = os.path.splitext(name)
        destination = folder / bounded_name(f"{stem}.{time.time_ns()}{suffix}")
    return destination


def take_over_stranded(session: Session, settings: Settings, run_id: str, is_live) -> list[Path]:
    """Files a dead run claimed into ``work/<run>/`` and did not journal, moved into this run's
    work folder; those it did journal are deleted (the archive and the journal hold them).

    ``is_live(run_id) -> bool`` says whether the run a folder belongs to is still working.
    """
    if not settings.work.is_dir():
        return []
    mine = safe_name(run_id)
    moved = []
    for folder in sorted(p for p in settings.work.iterdir() if p.is_dir() and p.name != mine):
        if is_live(folder.name):
            continue
        for path in waiting(folder):
            digest = sha256_of(path)
            journalled = session.scalar(
                select(ReceivedFile.id).where(
                    ReceivedFile.run_id == folder.name,
                    ReceivedFile.sha256 == digest,
                    ReceivedFile.name == journal_name(path),
                )
            )
            if journalled is not None:
                path.unlink(missing_ok=True)
                continue
            destination = _move_into(settings.work / mine, path)
            if destination is not None:  # else another recovering run took it
                moved.append(destination)
        with contextlib.suppress(OSError):  # not empty: another run is recovering it too
            folder.rmdir()
    if moved:
        log.warning("took over %d file(s) stranded by a run that died", len(moved))
    return moved


def archive(settings: Settings, path: Path) -> tuple[str, Path]:
    """Copy the bytes to ``archive/<aa>/<sha256>`` and hash them in the same read, so the hash
    is the hash of what was archived even if a sender is still appending to the file. An
    archived file is never rewritten. Returns the SHA-256 and the archive path."""
    settings.archive.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=settings.archive, prefix=".incoming-", suffix=".tmp")
    tmp = Path(name)
    digest = hashlib.sha256()
    try:
        faults.point("intake.archiving")
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        destination = settings.archive / sha256[:2] / sha256
        if destination.exists():
            tmp.unlink()
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o444)
            os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no partial copy behind
        raise
    return sha256, destination


def journal_name(path: Path) -> str:
    """A received file's name as the journal, receipts and reports show it: bytes that are not
    UTF-8 become U+FFFD and control characters ``_``, so any name a file system allows can be
    stored, written into XML and printed on one line."""
    raw = os.fsencode(path.name).decode("utf-8", errors="replace")
    return "".join("_" if unicodedata.category(ch) == "Cc" else ch for ch in raw)


@dataclass(frozen=True)
class Received:
    """What intake made of one path: the journalled file, and whether it was journalled before
    (the same bytes, still in flight or left by a run that died: this run adopts it)."""

    file_id: int
    adopted: bool


def receive(
    session: Session, settings: Settings, run_id: str, path: Path, *, claimed: bool = False
) -> Received:
    """Journal one received file: archive it, and recognise bytes that were received before.

    The size is checked before anything is read: a file over ERZL_MAX_FILE_MB is journalled
    unhashed and refused (F007) without a copy. Bytes known from a file that was fully handled
    (emitted, in a run that finished) make this file a duplicate of it; bytes of a file still in
    flight, or left by a run that died, are that file: no second row, this run adopts it.
    """
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        return Received(_refuse_oversized(session, settings, run_id, path, size, claimed), False)
    digest, archived = archive(settings, path)
    faults.point("intake.archived")
    first = insert_ignore(
        session,
        FileContent.__table__,
        {"sha256": digest, "size": size, "archive_path": str(archived), "hashed": True},
    )
    if not first:
        same = session.scalars(
            select(ReceivedFile)
            .where(ReceivedFile.sha256 == digest, ReceivedFile.name == journal_name(path))
            .order_by(ReceivedFile.id.desc())
        ).first()
        if same is not None and _is_a_retry_of(session, same, run_id, claimed):
            return Received(same.id, True)
    row = _journal_row(run_id, journal_name(path), digest, size)
    session.add(row)
    session.flush()
    content = session.get(FileContent, digest)
    if first:
        content.first_file_id = row.id
    else:
        row.duplicate_of = content.first_file_id
    return Received(row.id, False)


def _is_a_retry_of(session: Session, earlier: ReceivedFile, run_id: str, claimed: bool) -> bool:
    """Whether bytes received before under this name are that same file again, not a copy.

    A file this run claimed into its work folder and journalled is it (a retried step that died
    before removing it). A run that died before finishing the file never answered its sender:
    the bytes again are the retry, and this run finishes that file. Otherwise — the file done,
    or in flight in another live run, or given twice to this run — they are a second copy: a
    duplicate, decided once the original is applied.
    """
    from pipelines.run import run_is_live

    if earlier.run_id == run_id:
        return claimed
    if earlier.owner_run_id == run_id:  # this run took it over already (recover)
        return True
    journalled_by = session.get(Run, earlier.run_id)
    if earlier.state == "emitted" and journalled_by.status == "finished":
        return False
    return not run_is_live(session.get(Run, earlier.owner_run_id or earlier.run_id))


def _journal_row(run_id: str, name: str, digest: str, size: int) -> ReceivedFile:
    return ReceivedFile(
        run_id=run_id,
        name=name,
        sha256=digest,
        received_at=datetime.now(UTC),
        status="received",
        state="received",
        codes=[],
    )


def _refuse_oversized(
    session: Session, settings: Settings, run_id: str, path: Path, size: int, claimed: bool
) -> int:
    """Journal a file too large to take, unhashed: its content key says so, nothing is copied.
    A file claimed from the inbox is moved (a rename, no copy) to quarantine; one given on the
    command line stays where it is."""
    name = journal_name(path)
    key = hashlib.sha256(f"unhashed|{run_id}|{name}|{size}".encode()).hexdigest()
    insert_ignore(
        session,
        FileContent.__table__,
        {"sha256": key, "size": size, "archive_path": "", "hashed": False},
    )
    row = _journal_row(run_id, name, key, size)
    row.state, row.status = "applied", "quarantined"
    row.codes, row.records_seen = ["F007"], 0
    row.detail = f"file is larger than ERZL_MAX_FILE_MB ({settings.max_file_bytes} bytes)"
    row.owner_run_id, row.processed_at = run_id, datetime.now(UTC)
    session.add(row)
    session.flush()
    error = FileError("F007", row.detail)
    if claimed:
        kept = quarantine_path(settings, run_id, name)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, kept)
    write_reason(settings, run_id, name, error)
    log.warning("file %s refused unread: larger than the size limit", row.id)
    return row.id


def quarantine(settings: Settings, run_id: str, path: Path, name: str, error: FileError) -> Path:
    """Keep an unreadable file aside, under a bounded form of its name, beside its reason."""
    kept = quarantine_path(settings, run_id, name)
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, kept)
    kept.chmod(0o644)
    write_reason(settings, run_id, name, error)
    return kept


def quarantine_path(settings: Settings, run_id: str, name: str) -> Path:
    return settings.quarantine / safe_name(run_id) / bounded_name(safe_file_name(name))


def write_reason(settings: Settings, run_id: str, name: str, error: FileError) -> Path:
    kept = quarantine_path(settings, run_id, name)
    text = f"{error.code}\n{error.detail}\n{name}\n"
    return write_atomic(kept.with_name(kept.name + ".reason.txt"), text.encode("utf-8"))


def safe_file_name(name: str) -> str:
    """A received file's name, safe to write beside others: letters, digits, ``-_.`` kept."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
