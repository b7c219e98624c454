"""Hostile-input XML reading shared by every feed adapter.

Entity resolution, DTD loading and network access are off; a document that declares a DTD at
all is refused (F002) before any of it is parsed, so entity bombs never expand. Parsing is
streaming (``iterparse``) and every consumed element is cleared, so memory does not grow with
the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

_PROLOGUE_BYTES = 64 * 1024


class FileError(Exception):
    """A file cannot be processed as a whole. ``code`` is from :mod:`pipelines.codes`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _parser_options() -> dict:
    return {
        "resolve_entities": False,
        "load_dtd": False,
        "no_network": True,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


def refuse_doctype(path: Path) -> None:
    """Raise F002 when the prologue declares a DTD or entities; F007 for an empty file."""
    with path.open("rb") as fh:
        head = fh.read(_PROLOGUE_BYTES)
    if not head.strip():
        raise FileError("F007", "file is empty")
    lowered = head.lower()
    # An ASCII-compatible encoding is assumed by both feeds (UTF-8, windows-1251); a UTF-16
    # prologue spells these markers with NULs between letters, so check that form too.
    for marker in (b"<!doctype", b"<!entity", b"<\x00!\x00d\x00o\x00c\x00t\x00y\x00p\x00e"):
        if marker in lowered:
            raise FileError("F002", "DTD or entity declaration present")


def iter_elements(
    path: Path, tags: set[str], *, schema: etree.XMLSchema | None = None
) -> Iterator[etree._Element]:
    """Yield each completed element whose qualified tag is in ``tags``, then free it.

    The caller must finish with the element before asking for the next one. Errors surface as
    :class:`FileError`: F001 for a document that is not well-formed or cannot be decoded,
    F003 when ``schema`` is given and the document breaks it.
    """
    refuse_doctype(path)
    try:
        context = etree.iterparse(str(path), events=("end",), schema=schema, **_parser_options())
        for _event, elem in context:
            if elem.tag in tags:
                yield elem
            if elem.getparent() is not None and elem.tag in tags:
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
    except etree.XMLSyntaxError as exc:
        code = "F003" if schema is not None and _is_schema_error(exc) else "F001"
        raise FileError(code, _describe(exc)) from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileError("F001", f"cannot decode: {type(exc).__name__}") from None


def _is_schema_error(exc: etree.XMLSyntaxError) -> bool:
    log = getattr(exc, "error_log", None)
    domains = {e.domain_name for e in log} if log else set()
    return "SCHEMASV" in domains or "validity" in str(exc).lower()


def _describe(exc: etree.XMLSyntaxError) -> str:
    """Line and libxml2's message. Values from the document are not echoed: they may be personal."""
    line = getattr(exc, "lineno", None)
    message = str(getattr(exc, "msg", None) or exc)
    # libxml2 quotes offending values in schema messages ("The value 'X' is not ..."): drop them.
    message = re.sub(r"'[^']*'", "'…'", message)
    return f"line {line}: {message}" if line else message


def load_schema(path: Path) -> etree.XMLSchema:
    """Compile one of the project's own XSDs (trusted, from ``schemas/``)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def schemas_dir() -> Path:
    """``schemas/`` at the repository root, or the copy installed beside the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "schemas", here.parents[1] / "data" / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("schemas/ not found")
