"""Emit stage: write what a run decided to files for each party (receipts, notices, reports).

Functions here take plain dataclasses from :mod:`pipelines.emit.model` and never touch the
database. Output names derive from the input (file name, run id, ЕНП), and every file is written
atomically, so a rerun replaces its own output whole and a crash leaves no half-written file.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

from lxml import etree

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(value: str) -> str:
    """``value`` reduced to ``[A-Za-z0-9_-]`` for use inside a file name (Airflow run ids carry
    ``:`` and ``+``)."""
    cleaned = _UNSAFE.sub("_", value)
    if not cleaned:
        raise ValueError("empty name")
    return cleaned


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def schema(relative: str) -> etree.XMLSchema:
    """The project's XSD at ``schemas/<relative>``, compiled once per process."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / relative)))


def xml_bytes(root: etree._Element, schema_path: str) -> bytes:
    """``root`` serialised as UTF-8, after checking it against its schema: a document the
    schema rejects is a bug here and must not leave the fund."""
    schema(schema_path).assertValid(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
