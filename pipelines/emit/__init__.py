"""Emit stage: write what a run decided to files for each party (receipts, notices, reports).

Functions here take plain dataclasses from :mod:`pipelines.emit.model` and never touch the
database. Output names derive from the input (file name, run id, ЕНП), and every file is written
atomically, so a rerun replaces its own output whole and a crash leaves no half-written file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import BinaryIO

from lxml import etree

from pipelines import faults

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(value: str) -> str:
    """``value`` reduced to ``[A-Za-z0-9_-]`` for use inside a file name (Airflow run ids carry
    ``:`` and ``+``)."""
    cleaned = _UNSAFE.sub("_", value)
    if not cleaned:
        raise ValueError("empty name")
    return cleaned


# A file name is at most 255 bytes on the file systems a fund uses; names we derive from a
# sender's name stay well below, with room for a prefix (PR_) and a temporary suffix.
NAME_MAX_BYTES = 180


def bounded_name(name: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """``name`` itself when it fits in ``max_bytes`` of UTF-8, else a recognisable prefix, ``~``,
    ten hex digits of the name's SHA-256 and the original extension: distinct names stay
    distinct, and the whole name is kept inside the receipt."""
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    suffix = PurePath(name).suffix
    if len(suffix.encode("utf-8")) > 16:
        suffix = ""
    tag = "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10] + suffix
    stem = name[: len(name) - len(suffix)] if suffix else name
    budget = max_bytes - len(tag.encode("utf-8"))
    kept = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return kept + tag


def write_atomic(path: Path, data: bytes, *, kind: str = "file") -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    ``kind`` names the fault point ``write.<kind>``, passed between writing and renaming.
    """
    return write_atomic_stream(path, lambda handle: handle.write(data), kind=kind)


def write_atomic_stream(
    path: Path,
    write: Callable[[BinaryIO], None],
    *,
    kind: str = "file",
    schema_path: str | None = None,
) -> Path:
    """:func:`write_atomic` for a document too large to hold: ``write`` streams it into the
    temporary file, which is then streamed once against ``schema_path`` (an XML document), if
    given, before it is renamed into place. A document the schema rejects is a bug here and
    never leaves the fund."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".erzl-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        checked = (
            ()
            if schema_path is None
            else etree.iterparse(tmp, schema=schema(schema_path), events=("end",))
        )
        try:
            for _, element in checked:
                element.clear()  # checked: its memory, and its earlier siblings', can go
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as error:  # what assertValid raises on a tree
            raise etree.DocumentInvalid(str(error)) from None
        faults.point(f"write.{kind}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@functools.cache
def schema(relative: str) -> etree.XMLSchema:
    """The project's XSD at ``schemas/<relative>``, compiled once per process."""
    from pipelines.resources import schemas_dir

    return etree.XMLSchema(etree.parse(str(schemas_dir() / relative)))


def xml_bytes(root: etree._Element, schema_path: str) -> bytes:
    """``root`` serialised as UTF-8, after checking it against its schema: a document the
    schema rejects is a bug here and must not leave the fund."""
    schema(schema_path).assertValid(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
