"""Hostile-input XML reading shared by every feed adapter.

External entities, DTD loading and network access are off; a document that declares a DTD at
all is refused (F002), before it is parsed when the declaration sits in the first 64 KiB, so
entity bombs never expand (libxml2's amplification limit stops one hidden further on). Parsing is
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
        # Not False: lxml (6.1) combined with a schema then lets fatal errors through (a file
        # cut short, a bare "&" pass as valid). "internal" never loads an external entity, and
        # a DTD is refused before it could declare an internal one.
        "resolve_entities": "internal",
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
        # Filtering by tag inside libxml2 spares a Python object for every other element.
        context = etree.iterparse(
            str(path),
            events=("end",),
            tag=sorted(tags) or None,
            schema=schema,
            **_parser_options(),
        )
        checked = False
        for _event, elem in context:
            if not checked:
                checked = True
                _refuse_late_doctype(elem)
            if elem.tag in tags:
                yield elem
            if elem.getparent() is not None and elem.tag in tags:
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
        if not checked and context.root is not None:
            _refuse_late_doctype(context.root)
    except etree.XMLSyntaxError as exc:
        if _declares_doctype(path):  # a late DTD whose entities libxml2 refused to expand
            raise FileError("F002", "DTD or entity declaration present") from None
        if schema is not None and _is_schema_error(exc):
            # The validator can complain before the parser does (an unclosed tag first looks
            # like content where none is allowed): not well-formed is what the file is.
            raise _well_formedness_error(path) or FileError("F003", _describe(exc)) from None
        raise FileError("F001", _describe(exc)) from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileError("F001", f"cannot decode: {type(exc).__name__}") from None


class _Discard:
    """A parser target that keeps nothing: well-formedness checked without building a tree."""

    def start(self, tag, attrib) -> None:
        pass

    def end(self, tag) -> None:
        pass

    def data(self, data) -> None:
        pass

    def close(self) -> None:
        return None


def _well_formedness_error(path: Path) -> FileError | None:
    """F001 if the file is not well-formed or cannot be decoded, else None."""
    parser = etree.XMLParser(target=_Discard(), **_parser_options())
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 16):
                parser.feed(chunk)
        parser.close()
    except etree.XMLSyntaxError as exc:
        return FileError("F001", _describe(exc))
    except (UnicodeDecodeError, LookupError) as exc:
        return FileError("F001", f"cannot decode: {type(exc).__name__}")
    return None


def _declares_doctype(path: Path) -> bool:
    """Whether ``<!DOCTYPE`` appears anywhere in the file (read in chunks, on error paths only)."""
    marker = b"<!doctype"
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk.lower()
            if marker in window:
                return True
            tail = window[-len(marker) :]
    return False


def _refuse_late_doctype(elem: etree._Element) -> None:
    # A DOCTYPE behind a long prologue escapes refuse_doctype's window: libxml2 has read it
    # (entities unexpanded) by the time it reports an element. Refuse it all the same.
    if elem.getroottree().docinfo.doctype:
        raise FileError("F002", "DTD or entity declaration present")


def _is_schema_error(exc: etree.XMLSyntaxError) -> bool:
    log = getattr(exc, "error_log", None)
    domains = {e.domain_name for e in log} if log else set()
    return "SCHEMASV" in domains or "validity" in str(exc).lower()


def _describe(exc: etree.XMLSyntaxError) -> str:
    """Line and libxml2's message. Values from the document are not echoed: they may be personal."""
    line = getattr(exc, "lineno", None)
    if not line:  # streaming schema validation reports line 0; the log may know better
        log = getattr(exc, "error_log", None)
        line = log.last_error.line if log and log.last_error is not None else None
    message = redact(str(getattr(exc, "msg", None) or exc))
    return f"line {line}: {message}" if line else message


# A value from the document may itself hold a quote (Д'Артаньян), so it is cut out up to the
# words libxml2 writes after it, before any quote-by-quote redaction.
_VALUE = re.compile(
    r"(?P<lead>The value |: )'.*?'(?= (?:has |is |does |are ))"
    r"|(?P<bytes>\s*Bytes:(?:\s*0x[0-9A-Fa-f]{2})+)",
    re.DOTALL,
)
# libxml2 quotes names from the schema after these words ("Element '{ns}X', attribute 'Y'",
# "[facet 'length']", "atomic type 'xs:date'"); anything else it quotes may be a value.
_NAMED = re.compile(r"(?:Element|attribute|facet|type)\s$")
_QUOTED = re.compile(r"'([^']*)'")


def redact(message: str) -> str:
    """libxml2's message without values from the document: element and attribute names stay
    (local names, namespace dropped), other quoted text becomes '…', raw byte dumps go."""

    def cut_value(match: re.Match[str]) -> str:
        return "" if match.group("bytes") else match.group("lead") + "'…'"

    def keep_names(match: re.Match[str]) -> str:
        if _NAMED.search(match.string, 0, match.start()):
            return "'" + match.group(1).rpartition("}")[2] + "'"
        return "'…'"

    return _QUOTED.sub(keep_names, _VALUE.sub(cut_value, message))


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
