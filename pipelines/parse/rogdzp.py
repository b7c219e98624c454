"""The ЕГР ЗАГС push "ROGDZP", 4.0.0 and 4.0.1 → :class:`~pipelines.records.BirthRecord` (§4.1).

A territorial fund subscribes to the push (СМЭВ VS01287): the registry sends each birth act
record, wrapped in the СМЭВ registry envelope (directive 1.3)::

    Request / Registry / RegistryRecord* / Record / RecordContent / ROGDZPRequest @ИдСвед
                                                                   └ СведРегРожд*

and expects one acknowledgement ``ROGDZPResponse @ИдСвед @КодОбр="1"`` per message. A bare
``ROGDZPRequest`` (the envelope already taken off by the fund's СМЭВ adapter) is read too. The
structure comes from ``schemas/zags-rogdzp-4.0.x`` (the project's own schemas, written from the
public generated code: no official XSD is public).

What differs from ROGDINF, for the rules: no СНИЛС anywhere (the mother is linked by name,
birth date and document), the status in ``СтатусЗаписи/@КодСтатус`` (01, 02, 03, 07: mapped by
the same table as ROGDINF's ``КодСостСтат``), the record number and dates as attributes. Version
4.0.0 has no ``НомерВерс``: a record's version is the date of its latest change (the status date
or the latest correction), so a record re-sent unchanged is a duplicate and a changed one is a
later version.

Streaming, like the ROGDINF parser: one ``СведРегРожд`` is in memory at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pipelines.parse import values
from pipelines.parse.xmlsafe import FileError, iter_elements, load_schema
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
)
from pipelines.resources import schemas_dir

VERSIONS = ("4.0.0", "4.0.1")
ROOT_NS = {v: f"urn://x-artefacts-zags-rogdzp/root/112-23/{v}" for v in VERSIONS}
DIRECTIVE_NS = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/directive/1.3"
SCHEMA_FILES = {v: Path(f"zags-rogdzp-{v}") / "rogdzp-root.xsd" for v in VERSIONS}
ACK_CODE = "1"  # КодОбр: the only value the format has
# A file whose structure breaks the schema is read whole once more to find the line; beyond
# this size the detail goes without it.
LOCATE_LIMIT = 64 * 1024**2

_RECORD_CONTENT = f"{{{DIRECTIVE_NS}}}RecordContent"


@dataclass(frozen=True, slots=True)
class Message:
    """One ``ROGDZPRequest`` of a file: what its acknowledgement needs."""

    version: str
    message_id: str  # ИдСвед


def _q(version: str, local: str) -> str:
    return f"{{{ROOT_NS[version]}}}{local}"


@functools.cache
def schema(version: str) -> etree.XMLSchema:
    """The project's own ROGDZP schema of one version, compiled once."""
    return load_schema(schemas_dir() / SCHEMA_FILES[version])


def _root_tag(path: Path) -> str:
    """The root element's tag, read from the first start event only."""
    context = etree.iterparse(
        str(path), events=("start",), resolve_entities=False, load_dtd=False, no_network=True
    )
    try:
        for _event, root in context:
            return root.tag
    except (etree.XMLSyntaxError, UnicodeDecodeError, LookupError):
        pass
    raise FileError("F001", "not well-formed XML")


def version_of(path: Path | str) -> str:
    """The ROGDZP version a file is in, from its root element's namespace; F014 for a version
    this parser does not read, F004 when the root is not a ROGDZP message or its envelope (an
    answer, ``ROGDZPResponse``, dropped into the inbox is not a birth message)."""
    qname = etree.QName(_root_tag(Path(path)))
    for version, namespace in ROOT_NS.items():
        if qname.namespace == namespace:
            if qname.localname not in ("Request", "ROGDZPRequest"):
                raise FileError(
                    "F004", f"the root element {qname.localname} is not a ROGDZP birth message"
                )
            return version
    base = "urn://x-artefacts-zags-rogdzp/root/112-23/"
    if (qname.namespace or "").startswith(base):
        from pipelines.intake import shown_version

        shown = shown_version(qname.namespace[len(base) :])
        raise FileError(
            "F014", f"ROGDZP {shown} is not supported (supported: ROGDZP {', '.join(VERSIONS)})"
        )
    raise FileError("F004", "the root element is not a ROGDZP one")


# --- public API -------------------------------------------------------------------------------


def validate_structure(path: Path | str) -> None:
    """Stream the whole file against the schema of its version, then check what a schema with
    a lax envelope cannot: every ``RecordContent`` holds one ``ROGDZPRequest`` of the file's
    version, and every message has an ``ИдСвед`` to be acknowledged by.

    Raises :class:`FileError`: F003 for a violation (line and element, never a value), F014 for
    an unsupported version, and the codes of :func:`xmlsafe.iter_elements` (F001, F002, F007).
    """
    path = Path(path)
    version = version_of(path)
    request, envelope = _q(version, "ROGDZPRequest"), _q(version, "Request")
    try:
        for elem in iter_elements(
            path, {request, envelope, _RECORD_CONTENT}, schema=schema(version), root=_root_tag(path)
        ):
            if elem.tag == _RECORD_CONTENT:
                inside = [child.tag for child in elem]
                if inside != [request]:
                    raise values.structure_error(
                        elem, f"does not hold one ROGDZPRequest of version {version}"
                    )
            elif elem.tag == request and not (elem.get("ИдСвед") or "").strip():
                raise values.structure_error(elem, "attribute ИдСвед is missing")
            elif elem.tag == envelope and elem.getparent() is not None:
                raise values.structure_error(elem, "an envelope inside the envelope")
    except FileError as error:
        if error.code != "F003" or error.detail.startswith("line "):
            raise
        line = _locate(path, version)
        raise FileError("F003", f"line {line}: {error.detail}" if line else error.detail) from None


def _locate(path: Path, version: str) -> int | None:
    """The line of the first schema violation, from a whole-tree validation (small files)."""
    if path.stat().st_size > LOCATE_LIMIT:
        return None
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    checker = schema(version)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError:
        return None
    if checker.validate(tree):
        return None
    return checker.error_log[0].line or None


def messages(path: Path | str) -> list[Message]:
    """Every message of the file in order, for its acknowledgement. A file that passed
    :func:`validate_structure`."""
    path = Path(path)
    version = version_of(path)
    request = _q(version, "ROGDZPRequest")
    found: list[Message] = []
    for elem in iter_elements(path, {request}):
        found.append(Message(version, (elem.get("ИдСвед") or "").strip()))
    return found


def iter_births(path: Path | str) -> Iterator[BirthRecord]:
    """Yield every ``СведРегРожд`` of every message in order, ``seq`` counting from 1.

    The file is expected to have passed :func:`validate_structure`; a record that still lacks
    what the parser needs raises F003.
    """
    path = Path(path)
    version = version_of(path)
    record = _q(version, "СведРегРожд")
    for seq, elem in enumerate(iter_elements(path, {record}), start=1):
        message = elem.getparent()
        message_id = (message.get("ИдСвед") or "").strip() if message is not None else ""
        yield _record(elem, seq, version, message_id or None)


def acknowledgement(message: Message) -> etree._Element:
    """``ROGDZPResponse @ИдСвед @КодОбр="1"`` for one message, in the message's version."""
    namespace = ROOT_NS[message.version]
    return etree.Element(
        f"{{{namespace}}}ROGDZPResponse",
        {"ИдСвед": message.message_id, "КодОбр": ACK_CODE},
        nsmap={None: namespace},
    )


# --- the record -------------------------------------------------------------------------------


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _kids(elem: etree._Element) -> dict[str, etree._Element]:
    """Children by local name (the first of each): the schema has checked the namespaces."""
    found: dict[str, etree._Element] = {}
    for child in elem:
        if isinstance(child.tag, str):
            found.setdefault(_local(child), child)
    return found


def _all(elem: etree._Element, local: str) -> list[etree._Element]:
    return [c for c in elem if isinstance(c.tag, str) and _local(c) == local]


def _record(elem: etree._Element, seq: int, version: str, message_id: str | None) -> BirthRecord:
    k = _kids(elem)
    registration = k.get("ПрдСведРег")
    if registration is None:
        raise values.structure_error(elem, "ПрдСведРег is missing")
    status = k.get("СтатусЗаписи")
    if status is None or not status.get("КодСтатус"):
        raise values.structure_error(elem, "СтатусЗаписи/@КодСтатус is missing")
    parts = _kids(registration)
    born = parts.get("СведРодившемся")
    if born is None:
        raise values.structure_error(registration, "СведРодившемся is missing")
    organ = k.get("ОрганЗАГС")
    act_date = elem.get("ДатаЗапис")
    if version == "4.0.0":
        number, changed = None, _latest_change(elem, status)
        count = values.integer(registration.get("КолРодДетей"))
    else:
        number, changed = elem.get("НомерВерс"), values.calendar_date(elem.get("ДатаВерс"))
        count = _int_element(parts["КолРодДетей"]) if "КолРодДетей" in parts else None
    return BirthRecord(
        seq=seq,
        act_number=_required(elem, "НомерЗапис").strip(),
        # 4.0.0 has no НомерВерс; a 4.0.1 record without one is versioned the same way
        version=number.strip() if number and number.strip() else _dated_version(elem, status),
        version_date=changed,
        status_code=status.get("КодСтатус").strip(),
        register_section=1,  # a push of ЕГР ЗАГС: acts drawn up by Russian civil-registry offices
        act_date=values.date_value(elem, act_date, "ДатаЗапис") if act_date else None,
        zags_code=organ.get("КодЗАГС") if organ is not None else None,
        zags_name=organ.get("НаимЗАГС") if organ is not None else None,
        certificates=_certificates(elem),
        child=_child(born, version),
        mother=_parent_choice(parts, "СведМать", "ПрМать", version),
        father=_parent_choice(parts, "СведОтец", "ПрОтец", version),
        children_in_birth=count,
        birth_order=None,  # ROGDZP does not say which of several children this one is
        response_id=message_id,
    )


def _changes(elem: etree._Element, status: etree._Element) -> list:
    """Dates the record changed on: its status, and each correction, restoration, annulment."""
    dates = [values.calendar_date(status.get("ДатаНачСтатус"))]
    for local in ("СведИспрАГС", "СведВосстанАГС", "СведАннулирАГС"):
        dates += [values.calendar_date(c.get("ДатаВнесИспр")) for c in _all(elem, local)]
    return [d for d in dates if d is not None]


def _latest_change(elem: etree._Element, status: etree._Element):
    return max(_changes(elem, status), default=None)


def _dated_version(elem: etree._Element, status: etree._Element) -> str:
    """The version of a record without НомерВерс: the ISO date of its latest change (or of the
    act itself), which orders after every numbered version (enrol.births.version_order)."""
    latest = _latest_change(elem, status) or values.calendar_date(elem.get("ДатаЗапис"))
    return latest.isoformat() if latest is not None else "0000-00-00"


def _required(elem: etree._Element, attribute: str) -> str:
    value = elem.get(attribute)
    if value is None or not value.strip():
        raise values.structure_error(elem, f"attribute {attribute} is missing")
    return value


def _int_element(elem: etree._Element) -> int:
    value = values.integer(elem.text)
    if value is None:
        raise values.structure_error(elem, "not an integer")
    return value


def _certificates(elem: etree._Element) -> tuple[BirthCertificate, ...]:
    """The current certificate first: the latest issued. A repeat certificate is issued when the
    first is lost (ПовтСвидет in 4.0.1, a further СвидетРожд in 4.0.0); on the same date the
    repeat one wins."""
    issued = [(_certificate(c), 1) for c in _all(elem, "ПовтСвидет")]
    issued += [(_certificate(c), 0) for c in _all(elem, "СвидетРожд")]

    def newest(item: tuple[BirthCertificate, int]) -> tuple[str, int]:
        date = item[0].issue_date
        return (str(date) if isinstance(date, PartialDate) else "", item[1])

    return tuple(c for c, _repeat in sorted(issued, key=newest, reverse=True))


def _certificate(elem: etree._Element) -> BirthCertificate:
    issued = elem.get("ДатаВыдСвидет")
    return BirthCertificate(
        series=elem.get("СерияСвидет"),
        number=elem.get("НомерСвидет"),
        issue_date=values.date_value(elem, issued, "ДатаВыдСвидет") if issued else None,
    )


def _child(elem: etree._Element, version: str) -> Child:
    k = _kids(elem)
    alive = elem.get("ЖивМертв")
    if alive not in ("0", "1"):
        raise values.structure_error(elem, "attribute ЖивМертв is not 0 or 1")
    sex = elem.get("Пол")
    place: Text = None
    if "ПрМестоРожден" in k:
        place = ABSENT
    elif "МестоРожден" in k:
        place = values.one_line(k["МестоРожден"].get("МестоТекст"))
    return Child(
        snils=None,  # ROGDZP carries no СНИЛС
        stillborn=alive == "1",  # 0 live-born, 1 stillborn, as in ROGDINF
        sex=int(sex) if sex in ("1", "2") else None,
        name=_name(k.get("ФИОРожд")),
        birth_date=_birth_date(k, version),
        birth_place=place,
    )


def _birth_date(k: dict[str, etree._Element], version: str) -> DateValue:
    if version == "4.0.0":
        if "ДатаРожд" in k:
            return values.date_value(k["ДатаРожд"], k["ДатаРожд"].text, "ДатаРожд")
        if "МесГодРожд" in k:
            return values.year_month_value(k["МесГодРожд"], k["МесГодРожд"].text)
        if "ГодРожд" in k:
            return values.year_value(k["ГодРожд"], k["ГодРожд"].text)
        return None
    if "ПрДатаРожд" in k:
        return ABSENT
    if "ДатаРождКаленд" in k:
        elem = k["ДатаРождКаленд"]
        return values.date_value(elem, elem.text, "ДатаРождКаленд")
    if "ДатаРождДок" in k:
        return _partial_date(k["ДатаРождДок"])
    return None


def _partial_date(elem: etree._Element) -> PartialDate:
    k = _kids(elem)
    year = values.YEAR.fullmatch(k["Год"].text or "") if "Год" in k else None
    if year is None:
        raise values.structure_error(elem, "Год is missing or not a year")

    def part(value: str, flag: str) -> int | Absent:
        if flag in k:
            return ABSENT
        if value in k and (number := values.integer(k[value].text)) is not None:
            return number
        raise values.structure_error(elem, f"{value} is missing or not a number")

    return PartialDate(int(year.group(1)), part("Месяц", "ПрМесяц"), part("День", "ПрДень"))


def _name(elem: etree._Element | None) -> FullName:
    if elem is None:
        return FullName()
    k = _kids(elem)

    def part(value: str, flag: str) -> Text:
        if flag in k:
            return ABSENT
        return (k[value].text or "") if value in k else None

    return FullName(
        last_name=part("Фамилия", "ПрФамилия"),
        first_name=part("Имя", "ПрИмя"),
        middle_name=part("Отчество", "ПрОтчество"),
    )


def _parent_choice(parts: dict, tag: str, flag: str, version: str) -> Parent | Absent | None:
    if flag in parts:
        return ABSENT
    if tag in parts:
        return _parent(parts[tag], version)
    return None


def _parent(elem: etree._Element, version: str) -> Parent:
    k = _kids(elem)
    citizenship: str | Absent | None
    if version == "4.0.0":
        citizenship, country = elem.get("ОКСМ"), elem.get("НаимСтраны")
    elif "ПрГражданство" in k:
        citizenship, country = ABSENT, None
    elif "Гражданство" in k:
        citizenship, country = k["Гражданство"].get("ОКСМ"), k["Гражданство"].get("НаимСтраны")
    else:
        citizenship, country = None, None
    document: IdentityDocument | Absent | None = None
    if "ПрУдЛичнФЛ" in k:
        document = ABSENT
    elif "УдЛичнФЛ" in k:
        document = _document(k["УдЛичнФЛ"])
    residence: Text = None
    if "ПрАдрМЖ" in k:
        residence = ABSENT
    elif "АдрМЖ" in k:
        residence = _address(k["АдрМЖ"])
    elif version == "4.0.0":
        residence = _address(elem)  # АдрМЖИн | АдрМЖРФ stand in СведРодитТип itself
    return Parent(
        snils=None,
        citizenship=citizenship.strip() if isinstance(citizenship, str) else citizenship,
        citizenship_text=values.one_line(country),
        name=_name(k.get("ФИО")),
        birth_date=_birth_date(k, version),
        document=document,
        residence=residence,
    )


def _document(elem: etree._Element) -> IdentityDocument:
    """``УдЛичнФЛ``: series and number come in one attribute (СерНомДок)."""
    issued = elem.get("ДатаДок")
    return IdentityDocument(
        kind_code=elem.get("КодВидДок"),
        series=None,
        number=elem.get("СерНомДок"),
        issue_date=values.date_value(elem, issued, "ДатаДок") if issued else None,
        issued_by=elem.get("ВыдДок"),
    )


def _address(elem: etree._Element) -> str | None:
    """The residence as one line: the sender's own text, else composed from КЛАДР parts."""
    k = _kids(elem)
    if "АдрМЖИн" in k:
        return values.one_line(k["АдрМЖИн"].get("АдрТекст")) or None
    if "АдрМЖРФ" in k:
        russian = k["АдрМЖРФ"]
        line = values.one_line(russian.get("АдрРФТекст"))
        if line:
            return line
        kladr = _kids(russian).get("АдрКЛАДР")
        if kladr is not None:
            parts = (v for a in values.ADDRESS_PARTS if (v := kladr.get(a)))
            return values.one_line(", ".join(parts)) or None
    return None
