"""ЕГР ЗАГС "ROGDINF" 4.0.1 birth files → :class:`~pipelines.records.BirthRecord` (DOMAIN.md §4.1).

Streaming: one ``СведРегРожд`` is in memory at a time. ``validate_structure`` checks a whole
file against the project's schema first, so a file is refused before any record of it is used;
``iter_births`` then reads it again and yields the records. A ``Пр…`` flag becomes
:data:`~pipelines.records.ABSENT`, a date "as in the documents" a partial
:class:`~pipelines.records.PartialDate`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from pipelines.identifiers import snils_normalize
from pipelines.parse import values
from pipelines.parse.xmlsafe import FileError, iter_elements, load_schema, redact
from pipelines.records import (
    ABSENT,
    Absent,
    BirthCertificate,
    BirthRecord,
    Child,
    DateValue,
    FullName,
    IdentityDocument,
    Parent,
    PartialDate,
    Text,
    ZagsFileHeader,
)
from pipelines.resources import schemas_dir

ROOT_NS = "urn://x-artefacts-zags-rogdinf/root/112-51/4.0.1"
TYPES_NS = "urn://x-artefacts-zags-rogdinf/types/4.0.1"
SCHEMA_FILE = Path("zags-rogdinf-4.0.1") / "rogdinf-response.xsd"


class _Tags:
    """Qualified names of one namespace as attributes: ``R.СведМать`` is ``{ns}СведМать``."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __getattr__(self, local: str) -> str:
        if local.startswith("_"):
            raise AttributeError(local)
        tag = f"{{{self._namespace}}}{local}"
        setattr(self, local, tag)  # computed once, then an ordinary attribute
        return tag


R = _Tags(ROOT_NS)
T = _Tags(TYPES_NS)

RESPONSE, ANSWER, RECORD = R.ROGDINFResponse, R.СведОтветАГС, R.СведРегРожд

# The first elements to end in a ROGDINFResponse: read_header needs only one of them.
_HEADER_TAGS = {RESPONSE, ANSWER, RECORD, R.ДатаЗапис, R.ДатаЗаписДок, R.ОрганЗАГС}

_YEAR = values.YEAR
_calendar_date = values.calendar_date
_integer = values.integer
_one_line = values.one_line
_structure = values.structure_error


@functools.cache
def schema() -> etree.XMLSchema:
    """The project's own ROGDINFResponse schema (``schemas/zags-rogdinf-4.0.1``), compiled once."""
    return load_schema(schemas_dir() / SCHEMA_FILE)


# --- public API -------------------------------------------------------------------------------


def validate_structure(path: Path | str) -> None:
    """Stream the whole file against the project's schema.

    Raises :class:`FileError`: F003 on the first schema violation (the detail names the line and
    the element, never a value), and the codes of :func:`xmlsafe.iter_elements` for files that
    are empty (F007), declare a DTD (F002) or are not well-formed (F001).
    """
    path = Path(path)
    try:
        for _ in iter_elements(path, {ANSWER, RECORD}, schema=schema(), root=RESPONSE):
            pass
    except FileError as error:
        raise _located(path, error) from None


def _located(path: Path, error: FileError) -> FileError:
    """``error`` as the file is told it: a schema violation (F003) with the line it lies on."""
    if error.code != "F003":
        return error
    # Streaming validation does not know the line; find the offending record to say where.
    line = _locate(path, error.detail)
    return FileError("F003", f"line {line}: {error.detail}" if line else error.detail)


def read_header(path: Path | str) -> ZagsFileHeader:
    """The response's own attributes (ИдЗапрос, ДатаСвед, КолДок), read from the start of the
    file only: damage further on is for :func:`validate_structure` to find."""
    elements = iter_elements(Path(path), _HEADER_TAGS)
    try:
        first = next(elements, None)
        root = first.getroottree().getroot() if first is not None else None
        if root is None or root.tag != RESPONSE:
            where = f"line {root.sourceline}: " if root is not None else ""
            raise FileError("F003", f"{where}the root element is not ROGDINFResponse")
        return ZagsFileHeader(
            request_id=root.get("ИдЗапрос"),
            info_date=_calendar_date(root.get("ДатаСвед")),
            doc_count=_integer(root.get("КолДок")),
        )
    finally:
        elements.close()


def iter_births(path: Path | str) -> Iterator[BirthRecord]:
    """Yield every ``СведРегРожд`` of the file in order, ``seq`` counting from 1.

    The file is expected to have passed :func:`validate_structure`; a record that still lacks
    what the parser needs raises F003. A truncated or malformed file raises F001 where the damage
    is met, after the records before it have been yielded.
    """
    seq = 0
    for elem in iter_elements(Path(path), {ANSWER, RECORD}):
        if elem.tag == RECORD:
            seq += 1
            yield _record(elem, seq)


def iter_checked_births(path: Path | str) -> Iterator[BirthRecord]:
    """:func:`iter_births` and :func:`validate_structure` in one pass: the file is streamed
    against the schema as its records are read, so it is parsed once, not twice.

    The records before a violation are yielded, then the violation raises what
    :func:`validate_structure` would (F003 naming the line, or F001, F002, F007). A caller that
    must not act on a file that breaks the schema keeps what it does with the records undone
    until the last one is read, as a run's file transaction does.
    """
    path = Path(path)
    seq = 0
    elements = iter_elements(path, {ANSWER, RECORD}, schema=schema(), root=RESPONSE)
    try:
        for elem in elements:
            if elem.tag == RECORD:
                seq += 1
                try:
                    record = _record(elem, seq)
                except Exception:
                    # libxml2 reports a record's violation only when the stream ends; the
                    # parser met it first. Read on: what the file is told is what the schema says.
                    for _ in elements:
                        pass
                    raise
                yield record
    except FileError as error:
        raise _located(path, error) from None


def _locate(path: Path, message: str) -> int | None:
    """The line of the violation ``message`` describes, when it lies in a record.

    Records are validated one by one, each inside a copy of its envelope (the response and the
    answer with their attributes), so the error log carries the record's own line numbers. The
    first record that fails gives the line if it fails with the same message; a violation
    outside the records (an unexpected element between them) gives None.
    """
    checker = schema()
    with contextlib.closing(iter_elements(path, {ANSWER, RECORD})) as elements:
        try:
            for elem in elements:
                envelope = _envelope(elem) if elem.tag == RECORD else None
                if envelope is not None and not checker.validate(envelope):
                    entry = checker.error_log[0]
                    return entry.line if redact(entry.message) == message else None
        except FileError:
            return None
    return None


def _envelope(elem: etree._Element) -> etree._Element | None:
    answer = elem.getparent()
    root = answer.getparent() if answer is not None else None
    if root is None or answer.tag != ANSWER or root.tag != RESPONSE:
        return None
    doc = etree.Element(RESPONSE, dict(root.attrib))
    box = etree.SubElement(doc, ANSWER, dict(answer.attrib))
    doc.sourceline, box.sourceline = root.sourceline or 1, answer.sourceline or 1
    box.append(copy.deepcopy(elem))
    return doc


# --- the record -------------------------------------------------------------------------------


def _kids(elem: etree._Element) -> dict[str, etree._Element]:
    return {child.tag: child for child in elem}


def _record(elem: etree._Element, seq: int) -> BirthRecord:
    act_date: DateValue = None
    zags_code = zags_name = None
    certificates: list[BirthCertificate] = []
    registration = None
    for child in elem:
        tag = child.tag
        if tag == R.ДатаЗапис:
            act_date = _date_element(child)
        elif tag == R.ДатаЗаписДок:
            act_date = _partial_date(child)
        elif tag == R.ОрганЗАГС:
            zags_code, zags_name = child.get("КодЗАГС"), child.get("НаимЗАГС")
        elif tag == R.СвидетРожд:
            certificates.append(_certificate(child))
        elif tag == R.ПрдСведРег:
            registration = child
    if registration is None:
        raise _structure(elem, "ПрдСведРег is missing")
    parts = _kids(registration)
    if R.СведРодившемся not in parts:
        raise _structure(registration, "СведРодившемся is missing")

    children_in_birth: int | None = None
    birth_order: int | Absent | None = None
    if R.СведРоды in parts:
        birth = _kids(parts[R.СведРоды])
        count = birth.get(R.ЧислоРодДетей)
        children_in_birth = _int_element(count) if count is not None else None
        birth_order = _int_choice(birth, R.Счет, R.ПрСчет)

    parent = elem.getparent()
    return BirthRecord(
        seq=seq,
        act_number=_required(elem, "НомерЗаписЕГР"),
        version=_required(elem, "НомерВерс"),
        version_date=_calendar_date(_required(elem, "ДатаВерс")),
        status_code=_required(elem, "КодСостСтат"),
        register_section=_register_section(elem),
        act_date=act_date,
        zags_code=zags_code,
        zags_name=zags_name,
        certificates=tuple(certificates),
        child=_child(parts[R.СведРодившемся]),
        mother=_parent_choice(parts, R.СведМать, R.ПрМать),
        father=_parent_choice(parts, R.СведОтец, R.ПрОтец),
        children_in_birth=children_in_birth,
        birth_order=birth_order,
        response_id=parent.get("ИдДок") if parent is not None else None,
    )


def _required(elem: etree._Element, attribute: str) -> str:
    value = elem.get(attribute)
    if value is None:
        raise _structure(elem, f"attribute {attribute} is missing")
    return value


def _register_section(elem: etree._Element) -> int:
    value = _required(elem, "РазделЕГР")
    if value not in ("1", "2"):
        raise _structure(elem, "attribute РазделЕГР is not 1 or 2")
    return int(value)


def _child(elem: etree._Element) -> Child:
    k = _kids(elem)
    stillborn: bool | Absent | None = None
    if R.ПрЖивМертв in k:
        stillborn = ABSENT
    elif R.ЖивМертв in k:
        flag = k[R.ЖивМертв]
        if flag.text not in ("0", "1"):
            raise _structure(flag, "not 0 or 1")
        stillborn = flag.text == "1"  # 0 live-born, 1 stillborn
    sex = _int_choice(k, R.Пол, R.ПрПол)
    place: Text = None
    if R.ПрМестоРожден in k:
        place = ABSENT
    elif R.МестоРожден in k:
        place = k[R.МестоРожден].get("МестоТекст")
    return Child(
        snils=_snils(elem),
        stillborn=stillborn,
        sex=sex,
        name=_name(k.get(R.ФИОРожд)),
        birth_date=_date_choice(k, R.ДатаРождКаленд, R.ДатаРождДок, R.ПрДатаРожд),
        birth_place=place,
    )


def _parent_choice(parts: dict, tag: str, flag: str) -> Parent | Absent | None:
    if flag in parts:
        return ABSENT
    if tag in parts:
        return _parent(parts[tag])
    return None


def _parent(elem: etree._Element) -> Parent:
    k = _kids(elem)
    citizenship: str | Absent | None = None
    if T.ПрГражданство in k:
        citizenship = ABSENT
    elif T.ГраждОКСМ in k:
        citizenship = k[T.ГраждОКСМ].text or ""
    text = k.get(T.ГраждТекст)
    document: IdentityDocument | Absent | None = None
    if T.ПрУдЛичнФЛ in k:
        document = ABSENT
    elif T.УдЛичнФЛ in k:
        document = _document(k[T.УдЛичнФЛ])
    residence: Text = None
    if T.ПрАдрМЖ in k:
        residence = ABSENT
    elif T.АдрМЖ in k:
        residence = _address(k[T.АдрМЖ])
    return Parent(
        snils=_snils(elem),
        citizenship=citizenship,
        citizenship_text=(text.text or "") if text is not None else None,
        name=_name(k.get(T.ФИО)),
        birth_date=_date_choice(k, T.ДатаРождКаленд, T.ДатаРождДок, T.ПрДатаРожд),
        document=document,
        residence=residence,
    )


def _document(elem: etree._Element) -> IdentityDocument:
    k = _kids(elem)
    kind = k.get(T.КодВидДок)
    return IdentityDocument(
        kind_code=(kind.text or "") if kind is not None else None,  # ПрКодВидДок: None
        series=_text_choice(k, T.СерДок, T.ПрСерДок),
        number=_text_choice(k, T.НомДок, T.ПрНомДок),
        issue_date=_date_choice(k, T.ДатаДокКаленд, T.ДатаДокНеполн, T.ПрДатаДок),
        issued_by=_text_choice(k, T.ВыдДок, T.ПрВыдДок),
    )


def _certificate(elem: etree._Element) -> BirthCertificate:
    k = _kids(elem)
    return BirthCertificate(
        series=_text_choice(k, T.СерияСвидет, T.ПрСерияСвидет),
        number=_text_choice(k, T.НомерСвидет, T.ПрНомерСвидет),
        issue_date=_date_choice(k, T.ДатаВыдСвидет, T.ДатаВыдСвидетДок, T.ПрДатаВыдСвидет),
    )


def _address(elem: etree._Element) -> str | None:
    """АдрМЖ as one line: the sender's own one-line text, whitespace collapsed."""
    for kind in elem:
        if kind.tag == T.АдрМЖРФ:
            for form in kind:
                if form.tag == T.АдрТекст:
                    return _one_line(form.text)
                if form.tag in (T.АдрРФФИАС, T.АдрРФНеФИАС):
                    line = _one_line(form.get("АдрТекст"))
                    # АдрТекст is required; should it be blank, compose it from the parts.
                    return line or _one_line(
                        ", ".join(v for a in values.ADDRESS_PARTS if (v := form.get(a)))
                    )
        elif kind.tag == T.АдрМЖИн:
            line = kind.find(T.АдрТекст)
            return _one_line(line.text) if line is not None else None
        elif kind.tag == T.АдрМЖКонв:
            return _one_line(kind.text)
    return None


# --- values -----------------------------------------------------------------------------------


def _snils(elem: etree._Element) -> str | None:
    """The СНИЛС attribute as 11 digits (the format prints it ``NNN-NNN-NNN NN``)."""
    value = elem.get("СНИЛС")
    if value is None:
        return None
    digits = snils_normalize(value)
    if digits is None:
        raise _structure(elem, "attribute СНИЛС is malformed")
    return digits


def _name(elem: etree._Element | None) -> FullName:
    if elem is None:
        return FullName()
    k = _kids(elem)
    return FullName(
        last_name=_text_choice(k, T.Фамилия, T.ПрФамилия),
        first_name=_text_choice(k, T.Имя, T.ПрИмя),
        middle_name=_text_choice(k, T.Отчество, T.ПрОтчество),
    )


def _text_choice(k: dict, tag: str, flag: str) -> Text:
    if flag in k:
        return ABSENT
    if tag in k:
        return k[tag].text or ""
    return None


def _int_choice(k: dict, tag: str, flag: str) -> int | Absent | None:
    if flag in k:
        return ABSENT
    if tag in k:
        return _int_element(k[tag])
    return None


def _int_element(elem: etree._Element) -> int:
    value = _integer(elem.text)
    if value is None:
        raise _structure(elem, "not an integer")
    return value


def _date_choice(k: dict, calendar: str, partial: str, flag: str) -> DateValue:
    if flag in k:
        return ABSENT
    if calendar in k:
        return _date_element(k[calendar])
    if partial in k:
        return _partial_date(k[partial])
    return None


def _date_element(elem: etree._Element) -> PartialDate:
    """An xs:date as a complete PartialDate; a timezone suffix (``+04:00``) is ignored."""
    return values.date_value(elem, elem.text, "the value")


def _partial_date(elem: etree._Element) -> PartialDate:
    k = _kids(elem)
    year = k.get(T.Год)
    match = _YEAR.fullmatch(year.text or "") if year is not None else None
    if match is None:
        raise _structure(elem, "Год is missing or not a year")
    day = _int_choice(k, T.День, T.ПрДень)
    month = _int_choice(k, T.Месяц, T.ПрМесяц)
    if day is None or month is None:
        raise _structure(elem, "День or Месяц is missing")
    return PartialDate(int(match.group(1)), month, day)
