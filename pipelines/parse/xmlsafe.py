"""Hostile-input XML reading shared by every feed adapter.

No DTD ever reaches the parser: the whole file is scanned for a DOCTYPE or ENTITY declaration
before libxml2 sees a byte of it, wherever the declaration stands (after a long comment too), and
such a file is refused (F002). Entities are never resolved, DTDs never loaded, the network never
used. Parsing is streaming (``iterparse``) and every consumed element is cleared, so memory does
not grow with the file.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree


class FileError(Exception):
    """A file cannot be processed as a whole. ``code`` is from :mod:`pipelines.codes`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _parser_options() -> dict:
    return {
        # lxml (6.1) with a schema and resolve_entities=False lets fatal errors through (a file
        # cut short, a bare "&" pass as valid): every schema pass is followed by a
        # well-formedness check (ensure_well_formed), never by resolving entities.
        "resolve_entities": False,
        "load_dtd": False,
        "no_network": True,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


# A DOCTYPE or ENTITY declaration in an ASCII-compatible encoding (UTF-8, windows-1251), or in
# UTF-16 (a NUL beside every letter). XML spells them in capitals; lower case is caught as well.
_DECLARATION = re.compile(
    rb"<!(?:doctype|entity)|<\x00!\x00(?:d\x00o\x00c\x00t\x00y\x00p\x00e|e\x00n\x00t\x00i\x00t\x00y)",
    re.IGNORECASE,
)
_NON_BLANK = re.compile(rb"\S")
_CHUNK = 1 << 18
_OVERLAP = 32


def refuse_doctype(path: Path) -> None:
    """Raise F002 when the file declares a DTD or entities anywhere; F007 for an empty file.

    The whole file is scanned (a C-speed regex over 1 MiB chunks), once per content: the answer
    is remembered by path, size, mtime and inode.
    """
    stat = os.stat(path)
    verdict = _scan(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if verdict is not None:
        raise FileError(*verdict)


@functools.lru_cache(maxsize=256)
def _scan(path: str, _size: int, _mtime_ns: int, _inode: int) -> tuple[str, str] | None:
    # one preallocated buffer, searched in place: memory stays at one chunk whatever the size
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    blank = True
    tail = b""
    with open(path, "rb") as fh:
        first = True
        while n := fh.readinto(buffer):
            chunk = view[:n]
            if first:
                first = False
                refused = _unaccepted_encoding(bytes(chunk[:256]))
                if refused is not None:
                    return refused
            if blank and _NON_BLANK.search(chunk):
                blank = False
            if _DECLARATION.search(chunk) or _DECLARATION.search(tail + bytes(chunk[:_OVERLAP])):
                return ("F002", "DTD or entity declaration present")
            tail = bytes(chunk[-_OVERLAP:])
    if blank:
        return ("F007", "file is empty")
    return None


# The feeds are UTF-8 or windows-1251; UTF-16 is scanned above as well. Any other encoding a
# document may declare (UTF-7, UTF-32, EBCDIC, …) would hide its markup from the scan: refused.
_ACCEPTED_ENCODINGS = {"utf-8", "utf8", "windows-1251", "cp1251", "us-ascii", "ascii", "utf-16"}
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_WIDE_STARTS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00")


def _unaccepted_encoding(head: bytes) -> tuple[str, str] | None:
    """F001 for a document in an encoding the pre-parse scan cannot read (UCS-4/UTF-32 by its
    first bytes, or any declared encoding outside the accepted ones)."""
    if head.startswith(_WIDE_STARTS):
        return ("F001", "encoding not accepted (UCS-4/UTF-32)")
    declared = _DECLARED.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode("ascii").lower() not in _ACCEPTED_ENCODINGS:
        return ("F001", "encoding not accepted (only UTF-8 and windows-1251)")
    return None


def ensure_well_formed(path: Path) -> None:
    """F001 unless the whole file is well-formed and decodable (see _parser_options)."""
    error = _well_formedness_error(path)
    if error is not None:
        raise error


def iter_elements(
    path: Path,
    tags: set[str],
    *,
    schema: etree.XMLSchema | None = None,
    root: str | None = None,
) -> Iterator[etree._Element]:
    """Yield each completed element whose qualified tag is in ``tags``, then free it.

    The caller must finish with the element before asking for the next one. Errors surface as
    :class:`FileError`: F001 for a document that is not well-formed or cannot be decoded,
    F003 when ``schema`` is given and the document breaks it. With a schema, the expected
    ``root`` tag must be given: the document is well-formed only if its end is reached (lxml
    with a schema stops silently at a fatal error; see _parser_options).
    """
    refuse_doctype(path)
    if schema is not None and root is None:
        raise ValueError("a schema pass needs the root tag to know the document ended")
    watched = sorted(tags | ({root} if root else set()))
    try:
        # Filtering by tag inside libxml2 spares a Python object for every other element.
        context = etree.iterparse(
            str(path),
            events=("end",),
            tag=watched or None,
            schema=schema,
            **_parser_options(),
        )
        checked = closed = False
        for _event, elem in context:
            if not checked:
                checked = True
                _refuse_late_doctype(elem)
            if elem.getparent() is None:  # the root: the document is complete
                closed = closed or elem.tag == root
                if elem.tag in tags:
                    yield elem
                continue
            if elem.tag in tags:
                yield elem
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
        if not checked and context.root is not None:
            _refuse_late_doctype(context.root)
        if schema is not None and not closed:
            # stopped before the end: say why, with the parser's own line and message
            ensure_well_formed(path)
            raise FileError("F001", "the document ends before its root element is closed")
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
    """Whether a DTD or entity declaration appears anywhere in the file."""
    try:
        refuse_doctype(path)
    except FileError as error:
        return error.code == "F002"
    return False


def _refuse_late_doctype(elem: etree._Element) -> None:
    # refuse_doctype has scanned the file before the parser opened it; this is the second
    # guard, should the file have changed in between: libxml2 has read (never expanded) it.
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
    message = _WHERE.sub("", redact(str(getattr(exc, "msg", None) or exc))).strip()
    if not line:
        return message
    column = (getattr(exc, "position", None) or (None, None))[1]
    return f"line {line}, column {column}: {message}" if column else f"line {line}: {message}"


# libxml2 ends some messages with where it is; the description says it once, in front
_WHERE = re.compile(r",?\s*(?:line \d+, column \d+|\(line \d+\))\s*$")


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
