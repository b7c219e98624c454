"""Emit stage: write what a run decided to files for each party (receipts, notices, reports).

Functions here take plain dataclasses from :mod:`pipelines.emit.model` and never touch the
database. Output names derive from the input (file name, run id, ЕНП), and every file is written
atomically, so a rerun replaces its own output whole and a crash leaves no half-written file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

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
