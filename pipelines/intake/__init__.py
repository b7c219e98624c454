"""Intake stage: claim dropped files exactly once, archive them by hash, recognise the feed.

Nothing here parses a record. A file's bytes are archived before anything else happens, so the
raw input is kept, immutably, whatever later stages make of it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.config import Settings
from pipelines.emit import safe_name
from pipelines.parse.xmlsafe import FileError, refuse_doctype
from pipelines.register.db import insert_ignore
from pipelines.register.models import FileContent, ReceivedFile

log = logging.getLogger(__name__)

FEEDS = ("zags_births", "fns_rsv")
ZAGS_ROOT = "{urn://x-artefacts-zags-rogdinf/root/112-51/4.0.1}ROGDINFResponse"
_IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_feed(path: Path) -> str:
    """The feed a file belongs to, from its content: the root element and, for РСВ, the KND.

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
        root_tag = None
        for _event, elem in context:
            if root_tag is None:
                root_tag = elem.tag
                if root_tag == ZAGS_ROOT:
                    return "zags_births"
                if root_tag != "Файл":
                    break
            elif elem.tag == "Документ":
                if elem.get("КНД") == "1151111":
                    return "fns_rsv"
                break
    except etree.XMLSyntaxError as exc:
        raise FileError("F001", f"not well-formed XML (line {exc.lineno})") from None
    except (UnicodeDecodeError, LookupError):
        raise FileError("F001", "cannot decode the file") from None
    raise FileError("F004", "root element is of no known feed")


def _waiting(folder: Path) -> list[Path]:
    """Complete files in a folder, oldest first; a file that vanishes meanwhile is skipped."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or Path(entry.name).suffix in _IGNORED_SUFFIXES:
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
            except FileNotFoundError:
                continue  # another run took it between the listing and the look
    return [folder / name for _, name in sorted(found)]


def claim_inbox(settings: Settings, feed: str, run_id: str) -> list[Path]:
    """Move every file waiting in the feed's inbox into this run's work folder.

    ``os.rename`` within one file system is atomic: when two runs race for a file, exactly one
    rename succeeds and the other sees it gone. Files still being written should be dropped
    under a temporary suffix (``.part``, ``.tmp``) and renamed when complete. Files already in
    the run's work folder — moved by an earlier try of the same run that failed before
    journalling them — are claimed again, so a retry never strands them.
    """
    inbox = settings.feed_inbox(feed)
    inbox.mkdir(parents=True, exist_ok=True)
    target = settings.work / safe_name(run_id)
    claimed = _waiting(target) if target.is_dir() else []
    for path in _waiting(inbox):
        target.mkdir(parents=True, exist_ok=True)
        destination = target / path.name
        if destination.exists():  # the same name twice in one run: keep both
            destination = target / f"{path.stem}.{time.time_ns()}{path.suffix}"
        try:
            os.rename(path, destination)
        except FileNotFoundError:
            continue  # another run claimed it first
        claimed.append(destination)
    log.info("claimed %d file(s) from the %s inbox", len(claimed), feed)
    return claimed


def archive(settings: Settings, path: Path, sha256: str) -> Path:
    """Copy the bytes to ``archive/<aa>/<sha256>`` once; an archived file is never rewritten."""
    destination = settings.archive / sha256[:2] / sha256
    if not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = destination.with_name(f".{sha256}.{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, destination)
        destination.chmod(0o444)
    return destination


def receive(session: Session, settings: Settings, run_id: str, path: Path) -> ReceivedFile:
    """Journal one received file: archive it, and mark it a duplicate if its bytes are known."""
    digest = sha256_of(path)
    archived = archive(settings, path, digest)
    first = insert_ignore(
        session,
        FileContent.__table__,
        {"sha256": digest, "size": path.stat().st_size, "archive_path": str(archived)},
    )
    row = ReceivedFile(
        run_id=run_id,
        name=path.name,
        sha256=digest,
        received_at=datetime.now(UTC),
        status="received",
        codes=[],
    )
    session.add(row)
    session.flush()
    content = session.get(FileContent, digest)
    if first:
        content.first_file_id = row.id
    else:
        row.duplicate_of = content.first_file_id
    return row


def quarantine(settings: Settings, run_id: str, path: Path, name: str, error: FileError) -> Path:
    """Keep an unreadable file aside, under the name it came with, beside its reason."""
    folder = settings.quarantine / safe_name(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / safe_file_name(name)
    shutil.copyfile(path, kept)
    kept.chmod(0o644)
    (folder / f"{kept.name}.reason.txt").write_text(f"{error.code}\n{error.detail}\n", "utf-8")
    return kept


def first_of(session: Session, file_id: int) -> ReceivedFile | None:
    return session.scalar(select(ReceivedFile).where(ReceivedFile.id == file_id))


def safe_file_name(name: str) -> str:
    """A received file's name, safe to write beside others: letters, digits, ``-_.`` kept."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
