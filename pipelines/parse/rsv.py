"""Streaming parser of ФНС РСВ files (КНД 1151111, formats 5.01–5.08): header, persons, structure.

A file may hold hundreds of thousands of person blocks, so nothing here keeps more than the
prologue and one block in memory. The encoding is the one the XML declaration names
(windows-1251 in the feed); dates ``ДД.ММ.ГГГГ`` become :class:`datetime.date`, money
:class:`decimal.Decimal`. Errors are :class:`~pipelines.parse.xmlsafe.FileError` with codes from
:mod:`pipelines.codes`; their details name lines and elements, never document values. What
differs between the form versions, the schema of each included, is in
:mod:`pipelines.parse.rsv_versions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from pipelines.identifiers import snils_normalize
from pipelines.parse import rsv_versions, xmlsafe
from pipelines.parse.rsv_versions import FormVersion
from pipelines.parse.xmlsafe import FileError
from pipelines.records import PERIOD_QUARTER, FullName, InsuredPerson, Payment, RsvHeader

FORM_VERSION = rsv_versions.BASELINE  # the latest form, the one the project's own XSD is for
KND = "1151111"

_PERSON = "ПерсСвСтрахЛиц"
# Start tags that end the prologue: everything read_header needs comes before them.
_ROOT = "Файл"
_PROLOGUE_END = frozenset({"Подписант", "РасчетСВ", _PERSON})
_PROLOGUE_ROLES = frozenset(
    {("Файл", "Документ"), ("Документ", "СвНП"), ("СвНП", "НПЮЛ"), ("СвНП", "НПФЛ")}
)
_PROLOGUE_MAX_ELEMENTS = 200
_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})", re.ASCII)
_YEAR = re.compile(r"\s*(-?\d{4,})", re.ASCII)
_NAME = re.compile(r"[^\W\d][\w.\-]{0,63}")
# Lexical forms of xs:integer and xs:decimal (whitespace collapsed), ASCII digits only.
_INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*", re.ASCII)
_PRINTED_SNILS = re.compile(r"\d{3}-\d{3}-\d{3}[ -]\d{2}", re.ASCII)
_SMALL_INT = re.compile(r"\s*\d{1,3}\s*", re.ASCII)
_AMOUNT = re.compile(r"\s*[+-]?(?:\d{1,40}(?:\.\d{0,40})?|\.\d{1,40})\s*", re.ASCII)


def schema(version: str = FORM_VERSION) -> etree.XMLSchema:
    """The project's XSD for one form version, compiled once: 5.08's own file
    (``schemas/fns-rsv-5.08/``), an older version's derived from it; F014 for another."""
    return rsv_versions.schema_for(version)


# --- header -----------------------------------------------------------------------------------


def read_header(path: Path) -> RsvHeader:
    """The report's header: file id, form, period, correction and payer.

    Reads only the prologue, up to the signatory or the first person block. F014 when the form
    version is not one of 5.01–5.08, F012 when the КНД or period is not one this parser
    supports; F003 when something it needs is missing or unreadable.
    """
    prologue = _read_prologue(Path(path))
    rules = _check_supported(prologue)
    root = prologue.get("Файл")
    if root is None:
        raise FileError("F003", _where(prologue.get("root"), "root element is not Файл"))
    if rules is None:
        raise _missing(root, "ВерсФорм")
    doc = prologue.get("Документ")
    if doc is None:
        raise FileError("F003", _where(root, "element Документ missing"))

    document_date = _date(_required(doc, "ДатаДок"))
    if document_date is None:
        raise FileError("F003", _where(doc, "attribute ДатаДок is not a date ДД.ММ.ГГГГ"))
    year = _YEAR.match(_required(doc, "ОтчетГод"))
    if year is None:
        raise FileError("F003", _where(doc, "attribute ОтчетГод is not a year"))

    org, person = prologue.get("НПЮЛ"), prologue.get("НПФЛ")
    if org is not None:
        payer_inn, payer_kpp = _required(org, "ИННЮЛ"), _required(org, "КПП")
        payer_name, ogrnip = org.get("НаимОрг"), None
    elif person is not None:
        payer_inn, payer_kpp, ogrnip = _required(person, "ИННФЛ"), None, person.get("ОГРНИП")
        name = prologue.get("НПФЛ/ФИО")
        parts = [] if name is None else [name.get(a) for a in ("Фамилия", "Имя", "Отчество")]
        payer_name = " ".join(p.strip() for p in parts if p and p.strip()) or None
    else:
        raise FileError("F003", _where(prologue.get("СвНП", doc), "payer (НПЮЛ or НПФЛ) missing"))

    return RsvHeader(
        file_id=_required(root, "ИдФайл"),
        form_version=rules.version,
        document_date=document_date,
        correction_no=_integer(doc, "НомКорр"),
        period_code=_required(doc, "Период").strip(),
        year=int(year.group(1)),
        tax_office=doc.get("КодНО"),
        payer_inn=payer_inn.strip(),
        payer_kpp=payer_kpp.strip() if payer_kpp is not None else None,
        payer_name=payer_name,
        payer_ogrnip=ogrnip,
    )


def check_file_name(path: Path, header: RsvHeader) -> None:
    """F006 unless the file name without its extension equals ``Файл/@ИдФайл``."""
    if Path(path).stem != header.file_id:
        raise FileError("F006", "file name does not match Файл/@ИдФайл")


def _read_prologue(path: Path) -> dict[str, etree._Element]:
    """The elements before the first signatory or person block, by role.

    Start events only, so the scan stops as soon as the prologue is over, whatever follows.
    """
    found: dict[str, etree._Element] = {}
    with closing(_start_elements(path)) as elements:
        _collect_prologue(elements, found)
    return found


def _collect_prologue(elements: Iterator[etree._Element], found: dict[str, etree._Element]) -> None:
    for elem in elements:
        parent = elem.getparent()
        tag, ptag = elem.tag, (parent.tag if parent is not None else None)
        if parent is None:
            found["Файл" if tag == "Файл" else "root"] = elem
            if tag != "Файл":
                break
        elif tag in _PROLOGUE_END:
            break
        elif (ptag, tag) in _PROLOGUE_ROLES:
            found[tag] = elem
        elif ptag == "НПФЛ" and tag == "ФИО":
            found["НПФЛ/ФИО"] = elem


def _start_elements(path: Path) -> Iterator[etree._Element]:
    # The hostile-input policy is xmlsafe's: its parser options, and F002 for a DTD anywhere,
    # including one behind a prologue longer than refuse_doctype's window.
    xmlsafe.refuse_doctype(path)
    try:
        context = etree.iterparse(str(path), events=("start",), **xmlsafe._parser_options())
        for count, (_event, elem) in enumerate(context):
            if count == 0:
                xmlsafe._refuse_late_doctype(elem)
            if count >= _PROLOGUE_MAX_ELEMENTS:
                return
            yield elem
    except etree.XMLSyntaxError as exc:
        if xmlsafe._declares_doctype(path):
            raise FileError("F002", "DTD or entity declaration present") from None
        raise FileError("F001", xmlsafe._describe(exc)) from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileError("F001", f"cannot decode: {type(exc).__name__}") from None


def _check_supported(prologue: dict[str, etree._Element]) -> FormVersion | None:
    """The rules of the file's form version; None when it names none (the schema says F003).

    F012 for a КНД that is not the РСВ's or a period this parser does not read, F014 for a form
    version it does not read (the detail names the version, sanitised).
    """
    root, doc = prologue.get("Файл"), prologue.get("Документ")
    knd = doc.get("КНД") if doc is not None else None
    if knd is not None and knd != KND:
        raise FileError("F012", _where(doc, "КНД is not 1151111"))
    version = root.get("ВерсФорм") if root is not None else None
    rules = None
    if version is not None:
        try:
            rules = rsv_versions.rules_for(version)
        except FileError as error:
            raise FileError(error.code, _where(root, error.detail)) from None
    period = doc.get("Период") if doc is not None else None
    if period is not None and period.strip() not in PERIOD_QUARTER:
        raise FileError("F012", _where(doc, "period code is not supported"))
    return rules


# --- persons ----------------------------------------------------------------------------------


def iter_persons(path: Path) -> Iterator[InsuredPerson]:
    """Every ``ПерсСвСтрахЛиц`` in file order, one at a time, in constant memory.

    Meant for a file that passed :func:`validate_structure`; a value that cannot be read
    anyway raises F003. A missing СНИЛС is None (a business rule rejects it); an impossible
    birth date such as 29.02 of a common year is None, and so are a birth date and a document
    number that a form before 5.08 leaves out.
    """
    for seq, elem in enumerate(xmlsafe.iter_elements(Path(path), {_PERSON}), start=1):
        yield _person(elem, seq)


def iter_checked_persons(path: Path) -> Iterator[InsuredPerson]:
    """:func:`iter_persons` and :func:`validate_structure` in one pass: the file is streamed
    against the XSD of its form version as its blocks are read, so it is parsed once, not
    twice.

    The blocks before a violation are yielded, then what :func:`validate_structure` says of
    the file is raised (F014 or F012 from the prologue, F003 naming the violation's line, F001,
    F002, F007). libxml2 reports a violation while streaming only when the stream ends, so a
    caller that must not act on a file that breaks the schema keeps what it does with the
    blocks undone until the last one is read, as a run's file transaction does.
    """
    path = Path(path)
    try:
        rules = _check_supported(_read_prologue(path))
        xsd = schema(rules.version if rules is not None else FORM_VERSION)
        elements = xmlsafe.iter_elements(path, {_PERSON}, schema=xsd, root=_ROOT)
        for seq, elem in enumerate(elements, start=1):
            try:
                person = _person(elem, seq)
            except Exception:
                # the parser met a value the schema refuses before libxml2 said so: read on,
                # for the file is told what the schema says
                for _ in elements:
                    pass
                raise
            yield person
    except FileError:
        # What the schema pass says comes first, with the violation's line; a file it passes
        # is refused for what the reading met.
        validate_structure(path)
        raise


def _person(elem: etree._Element, seq: int) -> InsuredPerson:
    data: etree._Element | None = None
    name: dict[str, str] = {}
    payments = []
    # One pass over the block in document order (the hot path of a large file).
    for child in elem.iter("ДанФЛПолуч", "ФИО", "СвВыплМК"):
        tag = child.tag
        if tag == "СвВыплМК":
            payments.append(_payment(child))
        elif tag == "ДанФЛПолуч":
            data = child
        elif data is not None and child.getparent() is data:
            name = dict(child.items())
    if data is None:
        raise FileError("F003", _where(elem, "element ДанФЛПолуч missing"))
    attrs = dict(data.items())
    raw_snils = _text(attrs.get("СНИЛС"))
    born, sex = attrs.get("ДатаРожд"), attrs.get("Пол")
    return InsuredPerson(
        seq=seq,
        snils=_snils(raw_snils),
        inn=_text(attrs.get("ИННФЛ")),
        birth_date=_date(born) if born is not None else None,
        citizenship=_text(attrs.get("Гражд")),
        sex=_small_int(data, "Пол", sex) if sex is not None else None,
        document_kind=_text(attrs.get("КодВидДок")),
        document_number=_text(attrs.get("СерНомДок")),
        name=FullName(
            last_name=_text(name.get("Фамилия")),
            first_name=_text(name.get("Имя")),
            middle_name=_text(name.get("Отчество")),
        ),
        payments=tuple(payments),
        annulled=(elem.get("ПрАннулир") or "").strip() == "1",
    )


def _payment(elem: etree._Element) -> Payment:
    attrs = dict(elem.items())  # one call instead of one lookup per attribute
    category = attrs.get("КодКатЛиц")
    if category is None:
        raise _missing(elem, "КодКатЛиц")
    base, contributions = attrs.get("ВыплОПС"), attrs.get("НачислСВ")
    return Payment(
        month=_small_int(elem, "Месяц", attrs.get("Месяц")),
        insured_category=category.strip(),
        amount=_decimal(elem, "СумВыпл", attrs.get("СумВыпл")),
        base=_decimal(elem, "ВыплОПС", base) if base is not None else None,
        contributions=(
            _decimal(elem, "НачислСВ", contributions) if contributions is not None else None
        ),
    )


# --- structure --------------------------------------------------------------------------------


def validate_structure(path: Path) -> None:
    """Stream the file against the project's XSD of its form version; F003 at the first
    violation.

    F014 first when the prologue names a form version that is not read, F012 when it names a
    КНД or period that is not supported; F001 when the file is not well-formed or not
    decodable anywhere, even after a violation (a truncated file is F001, not a schema
    problem). A valid file is read once. libxml2
    reports violations met while streaming without a line number and goes on collecting
    them, so validation stops at the first one; the file is then checked for well-formedness
    to its end, and read again up to the violation, line by line, to find its line.
    """
    path = Path(path)
    rules = _check_supported(_read_prologue(path))
    # no version named: the 5.08 schema says what is missing
    xsd = schema(rules.version if rules is not None else FORM_VERSION)
    found = _validate_pass(path, xsd, line_mode_from=None)
    if found is None:
        return
    for _elem in xmlsafe.iter_elements(path, {_PERSON}):
        pass  # F001 for a file that is broken after its first violation
    offset, message = found
    located = _validate_pass(path, xsd, line_mode_from=offset)
    line = located[0] if located is not None else None
    raise FileError("F003", _describe_violation(message, line))


class _Source:
    """The file as iterparse reads it, stopping at the first schema violation.

    Before handing out the next piece, ``read`` looks at what the previous piece produced in the
    parser's error log. In plain mode it reads large chunks and notes where the offending chunk
    began; in line mode, from ``line_mode_from`` on, it hands out one line at a time, so the
    violation's line is known.
    """

    def __init__(self, fh: BinaryIO, line_mode_from: int | None) -> None:
        self._fh = fh
        self._line_mode_from = line_mode_from
        self.context: etree.iterparse | None = None
        self._offset = 0
        self._lines = 0
        self._piece_offset = 0
        self._piece_line = 1
        self.violation: tuple[int, str] | None = None  # (offset or line, message)

    def last_piece(self) -> int:
        """Where the piece read last begins: a byte offset in plain mode, else a line."""
        return self._piece_offset if self._line_mode_from is None else self._piece_line

    def read(self, size: int) -> bytes:
        if self.violation is not None:
            return b""
        if self.context is not None:
            message = _first_schema_error(self.context.error_log)
            if message is not None:
                self.violation = (self.last_piece(), message)
                return b""
        start = self._line_mode_from
        if start is None:
            data = self._fh.read(size)
        elif self._offset < start:
            data = self._fh.read(min(size, start - self._offset))
        else:
            data = self._fh.readline(size)
        self._piece_offset, self._piece_line = self._offset, self._lines + 1
        self._offset += len(data)
        self._lines += data.count(b"\n")
        return data


def _validate_pass(
    path: Path, xsd: etree.XMLSchema, line_mode_from: int | None
) -> tuple[int, str] | None:
    """One streaming validation; the first violation as (offset or line, message), or None."""
    xmlsafe.refuse_doctype(path)
    with path.open("rb") as fh:
        source = _Source(fh, line_mode_from)
        try:
            context = etree.iterparse(
                source,
                events=("end",),
                tag=(_PERSON, _ROOT),
                schema=xsd,
                **xmlsafe._parser_options(),
            )
            source.context = context
            closed = False
            for _event, elem in context:
                if elem.getparent() is None:
                    closed = True  # the root ended: the document is complete
                    continue
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
        except etree.XMLSyntaxError as exc:
            if source.violation is not None:
                return source.violation
            # The parser failed before a violation was noticed. Judge by this parse's own log
            # (the exception's may carry earlier parses' errors): anything but a schema error
            # means the file is not well-formed or not decodable, which comes first.
            log = list(source.context.error_log) if source.context is not None else []
            errors = [e for e in log if e.level >= etree.ErrorLevels.ERROR]
            if errors and all(e.domain_name == "SCHEMASV" for e in errors):
                return source.last_piece(), str(errors[0].message)
            if xmlsafe._declares_doctype(path):
                raise FileError("F002", "DTD or entity declaration present") from None
            raise FileError("F001", xmlsafe._describe(exc)) from None
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileError("F001", f"cannot decode: {type(exc).__name__}") from None
    if source.violation is None and not closed:
        # lxml with a schema stops silently at a fatal error (xmlsafe._parser_options)
        xmlsafe.ensure_well_formed(path)
        raise FileError("F001", "the document ends before its root element is closed")
    return source.violation


def _first_schema_error(log: object) -> str | None:
    for entry in log:  # type: ignore[attr-defined]
        if entry.domain_name == "SCHEMASV":
            return str(entry.message)
    return None


_VIOLATION = re.compile(r"Element '([^']*)'(?:, attribute '([^']*)')?: (.*)", re.DOTALL)
_MISSING_ATTRIBUTE = re.compile(r"The attribute '([^']*)' is required but missing")
_FACET = re.compile(r"\[facet '(\w+)'\]")


def _describe_violation(message: str, line: int | None) -> str:
    """``line N: element X[, attribute Y]: what`` from a libxml2 message, without its values."""
    where = f"line {line}" if line else "line unknown"
    match = _VIOLATION.match(message.strip())
    if match is None:
        if "No matching global declaration" in message:
            return f"{where}: root element is not Файл"
        return f"{where}: does not conform to the schema"
    element, attribute, rest = match.groups()
    subject = f"element {_safe_name(element)}"
    if attribute:
        subject += f", attribute {_safe_name(attribute)}"
    missing = _MISSING_ATTRIBUTE.search(rest)
    facet = _FACET.search(rest)
    if missing:
        what = f"required attribute {_safe_name(missing.group(1))} missing"
    elif "is not allowed" in rest and "attribute" in rest.lower():
        what = "attribute not allowed"
    elif "Missing child element" in rest:
        what = "required child element missing"
    elif "This element is not expected" in rest:
        what = "element not expected here"
    elif facet:
        what = f"value not accepted ({facet.group(1)})"
    elif "is not a valid value" in rest or "is not accepted" in rest:
        what = "value not accepted"
    elif "content" in rest.lower():
        what = "content not allowed"
    else:
        what = "does not conform to the schema"
    return f"{where}: {subject}: {what}"


def _safe_name(name: str) -> str:
    """A markup name as it may appear in a detail: a plain XML name, at most 64 characters."""
    return name if _NAME.fullmatch(name) else "?"


# --- values -----------------------------------------------------------------------------------


def _where(elem: etree._Element | None, what: str) -> str:
    line = getattr(elem, "sourceline", None)
    return f"line {line}: {what}" if line else what


def _required(elem: etree._Element, name: str) -> str:
    value = elem.get(name)
    if value is None:
        raise _missing(elem, name)
    return value


def _missing(elem: etree._Element, name: str) -> FileError:
    return FileError("F003", _where(elem, f"element {elem.tag}: attribute {name} missing"))


def _snils(value: str | None) -> str | None:
    """11 digits when the value reads as a СНИЛС; otherwise as sent, for the rules to reject."""
    if value is None:
        return None
    if _PRINTED_SNILS.fullmatch(value):  # the form the schema admits: the common, fast case
        return value[0:3] + value[4:7] + value[8:11] + value[12:14]
    return snils_normalize(value) or value


def _text(value: str | None) -> str | None:
    """A text attribute without the surrounding spaces the format tolerates; '' is None."""
    if value is None:
        return None
    return value.strip() or None


def _date(value: str) -> date | None:
    """``ДД.ММ.ГГГГ`` as a date; None when it is not one (29.02 of a common year, say)."""
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _bad_value(elem: etree._Element, name: str, what: str) -> FileError:
    return FileError("F003", _where(elem, f"element {elem.tag}: attribute {name}: {what}"))


def _integer(elem: etree._Element, name: str) -> int:
    value = _required(elem, name)
    if not _INTEGER.fullmatch(value):
        raise _bad_value(elem, name, "not a number")
    return int(value)


def _small_int(elem: etree._Element, name: str, value: str | None) -> int:
    if value is None:
        raise _missing(elem, name)
    if not _SMALL_INT.fullmatch(value):
        raise _bad_value(elem, name, "not a number")
    return int(value)


def _decimal(elem: etree._Element, name: str, value: str | None) -> Decimal:
    if value is None:
        raise _missing(elem, name)
    if not _AMOUNT.fullmatch(value):
        raise _bad_value(elem, name, "not an amount")
    return Decimal(value)
