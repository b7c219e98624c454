"""Realistic ЕГР ЗАГС birth files: "ROGDINF" 4.0.1, valid under the official schema, and the
push "ROGDZP" 4.0.0 / 4.0.1, valid under the project's own schemas (``schemas/zags-rogdzp-*``).

Everything here is made up: names come from short lists, СНИЛС are random numbers with correct
(or, on request, deliberately wrong) check digits. The output is deterministic for a given
``random.Random`` seed, so tests and demos can rely on it. The same :class:`BirthSpec` feeds
both formats (:func:`write_rogdinf`, :func:`write_rogdzp`); ROGDZP carries no СНИЛС, so the
``snils`` fields are not written there. :func:`rogdzp_variant` builds the broken or unusual
ROGDZP files the tests need.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from pipelines.identifiers import SNILS_NO_CHECK_UP_TO, snils_check_digits
from pipelines.records import ABSENT, PartialDate

ROOT_NS = "urn://x-artefacts-zags-rogdinf/root/112-51/4.0.1"
TYPES_NS = "urn://x-artefacts-zags-rogdinf/types/4.0.1"

MAX_RESPONSES = 99  # КолДок is a two-digit number in the official schema
_UUID_NS = uuid.UUID("6f0d3c1e-2b7a-4e59-9a43-0c8b7d1f5e21")


@dataclass(frozen=True, slots=True)
class ParentSpec:
    """A mother or a father. ``None`` in a field means "flagged absent" in the file."""

    last_name: str | None
    first_name: str | None
    middle_name: str | None
    birth_date: date | PartialDate | None
    snils: str | None = None  # 11 digits, as the test or demo wants it (check digit not enforced)
    citizenship: str | None = "643"  # ОКСМ; None writes ПрГражданство
    birth_place: str | None = None
    document_kind: str = "21"  # СПДУЛ: 21 passport of a citizen, 10 foreign passport
    document_series: str | None = None
    document_number: str | None = None  # None (with no series) writes ПрУдЛичнФЛ
    document_date: date | None = None
    document_issuer: str | None = None
    document_issuer_code: str | None = None
    address: str | None = None  # one line; None writes ПрАдрМЖ
    address_region: tuple[str, str] | None = None  # (code, name): a FIAS address; else text
    # ROGDZP only: ОКСМ of a residence abroad (written as АдрМЖИн); None: the address is in Russia
    address_country: str | None = None


@dataclass(frozen=True, slots=True)
class BirthSpec:
    """One birth act record to write. ``None`` in a name or place writes its ``Пр…`` flag."""

    act_number: str  # НомерЗаписЕГР, 21 characters
    act_date: date
    zags_code: str  # 8 characters
    zags_name: str
    sex: int  # 1 male, 2 female
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    # a date writes ДатаРождКаленд, a PartialDate ДатаРождДок, None the ПрДатаРожд flag
    birth_date: date | PartialDate | None
    birth_place: str | None
    stillborn: bool = False
    snils: str | None = None  # the child's, 11 digits
    mother: ParentSpec | None = None  # None writes ПрМать
    father: ParentSpec | None = None  # None writes ПрОтец
    certificate_series: str | None = None  # e.g. "I-МЮ"; None: no certificate issued
    certificate_number: str | None = None  # 6 digits
    version: str = "1"
    version_date: date | None = None  # ДатаВерс; the act date when None
    status_code: str = "0001"
    register_section: int = 1
    children_in_birth: int | None = None  # СведРоды/ЧислоРодДетей; None: no СведРоды
    birth_order: int | None = None  # СведРоды/Счет; None writes ПрСчет
    mother_child_count: int | None = None  # СчетМатер; None writes ПрСчетМатер
    medical_certificate: str | None = None  # СведДокРод series and number; None writes ПрСведДокРод
    # --- ROGDZP only (write_rogdzp); write_rogdinf ignores these -----------------------------
    # СтатусЗаписи/@КодСтатус, one of ROGDZP_STATUS_CODES. None: status_code when it is one of
    # them, else "01" (a ROGDINF СОСТАГС code such as "0001" is never written): rogdzp_status()
    zp_status: str | None = None
    zp_status_date: date | None = None  # ДатаНачСтатус; the version date (or act date) when None
    certificate_date: date | None = None  # ДатаВыдСвидет; the act date when None
    # repeat certificates (ПовтСвидет in 4.0.1, further СвидетРожд in 4.0.0): (series, number, date)
    repeat_certificates: tuple[tuple[str | None, str | None, date], ...] = ()
    corrections: tuple[tuple[date, str], ...] = ()  # СведИспрАГС: (ДатаВнесИспр, СодержИспр)


# --- writing ----------------------------------------------------------------------------------


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _text(value: object) -> str:
    return escape(str(value), {"\r": "&#13;"})


def _el(tag: str, value: object) -> str:
    return f"<{tag}>{_text(value)}</{tag}>"


def _choice(tag: str, value: object | None, flag: str) -> str:
    return f"<{flag}>1</{flag}>" if value is None else _el(tag, value)


def _partial(tag: str, value: PartialDate) -> str:
    day = value.day if isinstance(value.day, int) else None
    month = value.month if isinstance(value.month, int) else None
    return (
        f"<{tag}>{_choice('t:День', day, 't:ПрДень')}{_choice('t:Месяц', month, 't:ПрМесяц')}"
        f"<t:Год>{value.year:04d}</t:Год></{tag}>"
    )


def _date_choice(value: date | PartialDate | None, calendar: str, partial: str, flag: str) -> str:
    if value is None:
        return f"<{flag}>1</{flag}>"
    if isinstance(value, PartialDate):
        return _partial(partial, value)
    return _el(calendar, value.isoformat())


def _name(tag: str, last: str | None, first: str | None, middle: str | None) -> str:
    return (
        f"<{tag}>{_choice('t:Фамилия', last, 't:ПрФамилия')}"
        f"{_choice('t:Имя', first, 't:ПрИмя')}{_choice('t:Отчество', middle, 't:ПрОтчество')}"
        f"</{tag}>"
    )


def _snils_attr(snils: str | None) -> str:
    if snils is None:
        return ""
    return f' СНИЛС="{snils[0:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:11]}"'


def _parent_xml(tag: str, p: ParentSpec) -> str:
    out = [f"<{tag}{_snils_attr(p.snils)}>"]
    out.append(_choice("t:ГраждОКСМ", p.citizenship, "t:ПрГражданство"))
    out.append(_name("t:ФИО", p.last_name, p.first_name, p.middle_name))
    out.append(_date_choice(p.birth_date, "t:ДатаРождКаленд", "t:ДатаРождДок", "t:ПрДатаРожд"))
    if p.birth_place is None:
        out.append("<t:ПрМестоРожден>1</t:ПрМестоРожден>")
    else:
        out.append(f'<t:МестоРожден ПризнМесто="1" МестоТекст="{_attr(p.birth_place)}"/>')
    if p.document_number is None and p.document_series is None:
        out.append("<t:ПрУдЛичнФЛ>1</t:ПрУдЛичнФЛ>")
    else:
        out.append("<t:УдЛичнФЛ>")
        out.append(_el("t:КодВидДок", p.document_kind))
        out.append(_choice("t:СерДок", p.document_series, "t:ПрСерДок"))
        out.append(_choice("t:НомДок", p.document_number, "t:ПрНомДок"))
        out.append(
            _date_choice(p.document_date, "t:ДатаДокКаленд", "t:ДатаДокНеполн", "t:ПрДатаДок")
        )
        out.append(_choice("t:ВыдДок", p.document_issuer, "t:ПрВыдДок"))
        out.append(_choice("t:КодВыдДок", p.document_issuer_code, "t:ПрКодВыдДок"))
        out.append("</t:УдЛичнФЛ>")
    if p.address is None:
        out.append("<t:ПрАдрМЖ>1</t:ПрАдрМЖ>")
    elif p.address_region is None:
        out.append(f"<t:АдрМЖ><t:АдрМЖРФ>{_el('t:АдрТекст', p.address)}</t:АдрМЖРФ></t:АдрМЖ>")
    else:
        code, name = p.address_region
        out.append(
            f'<t:АдрМЖ><t:АдрМЖРФ><t:АдрРФФИАС АдрТекст="{_attr(p.address)}" '
            f'КодРегион="{_attr(code)}" НаимРегион="{_attr(name)}"/></t:АдрМЖРФ></t:АдрМЖ>'
        )
    out.append(f"</{tag}>")
    return "".join(out)


def _record(spec: BirthSpec) -> str:
    version_date = spec.version_date or spec.act_date
    out = [
        f'<СведРегРожд РазделЕГР="{spec.register_section}" '
        f'НомерЗаписЕГР="{_attr(spec.act_number)}" НомерВерс="{_attr(spec.version)}" '
        f'ДатаВерс="{version_date.isoformat()}" КодСостСтат="{_attr(spec.status_code)}">',
        _el("ДатаЗапис", spec.act_date.isoformat()),
        f'<ОрганЗАГС НаимЗАГС="{_attr(spec.zags_name)}" КодЗАГС="{_attr(spec.zags_code)}"/>',
    ]
    if spec.certificate_series is not None or spec.certificate_number is not None:
        out.append(
            '<СвидетРожд ТипСвидет="1">'
            f"{_choice('t:СерияСвидет', spec.certificate_series, 't:ПрСерияСвидет')}"
            f"{_choice('t:НомерСвидет', spec.certificate_number, 't:ПрНомерСвидет')}"
            f"{_el('t:ДатаВыдСвидет', spec.act_date.isoformat())}</СвидетРожд>"
        )
    out.append("<ПрдСведРег>")
    out.append(_choice("СчетМатер", spec.mother_child_count, "ПрСчетМатер"))
    if spec.children_in_birth is not None:
        out.append(
            f"<СведРоды>{_el('ЧислоРодДетей', spec.children_in_birth)}"
            f"{_choice('Счет', spec.birth_order, 'ПрСчет')}</СведРоды>"
        )
    out.append(f"<СведРодившемся{_snils_attr(spec.snils)}>")
    out.append(_el("ЖивМертв", 1 if spec.stillborn else 0))
    out.append(_el("Пол", spec.sex))
    out.append(_name("ФИОРожд", spec.last_name, spec.first_name, spec.middle_name))
    out.append(_date_choice(spec.birth_date, "ДатаРождКаленд", "ДатаРождДок", "ПрДатаРожд"))
    if spec.birth_place is None:
        out.append("<ПрМестоРожден>1</ПрМестоРожден>")
    else:
        out.append(
            f'<МестоРожден ПризнМесто="1" МестоТекст="{_attr(spec.birth_place)}" '
            'КодСтраны="643" НаимСтраны="Россия"/>'
        )
    out.append("</СведРодившемся>")
    out.append(
        "<ПрМать>1</ПрМать>" if spec.mother is None else _parent_xml("СведМать", spec.mother)
    )
    out.append(
        "<ПрОтец>1</ПрОтец>" if spec.father is None else _parent_xml("СведОтец", spec.father)
    )
    if spec.father is None:
        out.append("<ПрСведДокОснОтец>1</ПрСведДокОснОтец>")
    else:
        out.append(
            "<СведДокОснОтец><t:ДокОсн>"
            "<t:НаимДок>Свидетельство о заключении брака</t:НаимДок>"
            "<t:ПрСерНомДок>1</t:ПрСерНомДок><t:ПрДатаДок>1</t:ПрДатаДок>"
            f"{_el('t:НаимОрг', spec.zags_name)}</t:ДокОсн></СведДокОснОтец>"
        )
    if spec.medical_certificate is None:
        out.append("<ПрСведДокРод>1</ПрСведДокРод>")
    else:
        kind = (
            "Медицинское свидетельство о перинатальной смерти"
            if spec.stillborn
            else "Медицинское свидетельство о рождении"
        )
        birth = spec.birth_date
        out.append(
            f"<СведДокРод>{_el('t:НаимДок', kind)}"
            f"{_el('t:СерНомДок', spec.medical_certificate)}"
            f"{_date_choice(birth, 't:ДатаДокКаленд', 't:ДатаДокНеполн', 't:ПрДатаДок')}"
            "<t:ПрОргФИО>1</t:ПрОргФИО></СведДокРод>"
        )
    out.append("</ПрдСведРег></СведРегРожд>\n")
    return "".join(out)


def _request_id(specs: Sequence[BirthSpec]) -> str:
    digest = hashlib.sha256()
    for spec in specs:
        digest.update(f"{spec.act_number}/{spec.version};".encode())
    return str(uuid.uuid5(_UUID_NS, digest.hexdigest()))


def write_rogdinf(
    path: Path | str,
    specs: Sequence[BirthSpec],
    request_id: str | None = None,
    *,
    info_date: date | None = None,
    per_response: int = 1000,
) -> Path:
    """Write ``specs`` as one ROGDINFResponse (UTF-8) and return the path.

    Records are spread over at most 99 ``СведОтветАГС`` of about ``per_response`` each (the
    official ``КолДок`` has two digits). The request id and the document ids are derived from
    the specs unless given, so the same specs give the same bytes.
    """
    path = Path(path)
    request_id = request_id or _request_id(specs)
    if info_date is None:
        info_date = max((s.version_date or s.act_date for s in specs), default=date(2000, 1, 1))
    groups = min(MAX_RESPONSES, max(1, math.ceil(len(specs) / max(1, per_response))))
    size = max(1, math.ceil(len(specs) / groups))
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(
            f'<ROGDINFResponse xmlns="{ROOT_NS}" xmlns:t="{TYPES_NS}" '
            f'ИдЗапрос="{_attr(request_id)}" ДатаСвед="{info_date.isoformat()}" '
            f'КолДок="{groups}" ТипАГСЗапрос="01">\n'
        )
        for g in range(groups):
            chunk = specs[g * size : (g + 1) * size]
            doc_id = uuid.uuid5(_UUID_NS, f"{request_id}/{g + 1}")
            result = "1" if chunk else "2"
            fh.write(f'<СведОтветАГС ИдДок="{doc_id}" РезОбраб="{result}">\n')
            for spec in chunk:
                fh.write(_record(spec))
            fh.write("</СведОтветАГС>\n")
        fh.write("</ROGDINFResponse>\n")
    return path


# --- random specs -----------------------------------------------------------------------------

# (code, name, settlement, region code, region name, certificate series, passport issuer)
ZAGS_OFFICES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    (
        "16000045",
        "Отдел ЗАГС Вахитовского района г. Казани Управления ЗАГС Кабинета Министров "
        "Республики Татарстан",
        "г. Казань",
        "16",
        "Республика Татарстан",
        "I-КБ",
        "МВД по Республике Татарстан",
    ),
    (
        "77000123",
        "Хамовнический отдел ЗАГС Управления ЗАГС Москвы",
        "г. Москва",
        "77",
        "г. Москва",
        "IV-МЮ",
        "ГУ МВД России по г. Москве",
    ),
    (
        "78000031",
        "Отдел ЗАГС Адмиралтейского района Комитета по делам ЗАГС Правительства Санкт-Петербурга",
        "г. Санкт-Петербург",
        "78",
        "г. Санкт-Петербург",
        "II-АК",
        "ГУ МВД России по г. Санкт-Петербургу и Ленинградской области",
    ),
    (
        "52000017",
        "Отдел ЗАГС Нижегородского района г. Нижнего Новгорода главного управления ЗАГС "
        "Нижегородской области",
        "г. Нижний Новгород",
        "52",
        "Нижегородская область",
        "III-ТН",
        "ГУ МВД России по Нижегородской области",
    ),
    (
        "66000008",
        "Отдел ЗАГС Ленинского района г. Екатеринбурга Управления ЗАГС Свердловской области",
        "г. Екатеринбург",
        "66",
        "Свердловская область",
        "V-АИ",
        "ГУ МВД России по Свердловской области",
    ),
)

# (male, female) surname forms
SURNAMES: tuple[tuple[str, str], ...] = (
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"),
    ("Новиков", "Новикова"),
    ("Морозов", "Морозова"),
    ("Петров", "Петрова"),
    ("Волков", "Волкова"),
    ("Соловьёв", "Соловьёва"),
    ("Васильев", "Васильева"),
    ("Зайцев", "Зайцева"),
    ("Павлов", "Павлова"),
    ("Семёнов", "Семёнова"),
    ("Голубев", "Голубева"),
    ("Виноградов", "Виноградова"),
    ("Богданов", "Богданова"),
    ("Фёдоров", "Фёдорова"),
    ("Михайлов", "Михайлова"),
    ("Тарасов", "Тарасова"),
    ("Белов", "Белова"),
    ("Орлов", "Орлова"),
    ("Никитин", "Никитина"),
    ("Ильин", "Ильина"),
    ("Сорокин", "Сорокина"),
    ("Гарипов", "Гарипова"),
    ("Хабибуллин", "Хабибуллина"),
    ("Никольский", "Никольская"),
    ("Шевченко", "Шевченко"),
    ("Черных", "Черных"),
)

# (name, patronymic of a son, patronymic of a daughter)
MALE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Александр", "Александрович", "Александровна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Лев", "Львович", "Львовна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Марк", "Маркович", "Марковна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Никита", "Никитич", "Никитична"),
    ("Павел", "Павлович", "Павловна"),
    ("Роман", "Романович", "Романовна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Тимур", "Тимурович", "Тимуровна"),
    ("Фёдор", "Фёдорович", "Фёдоровна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Николай", "Николаевич", "Николаевна"),
)

FEMALE_NAMES: tuple[str, ...] = (
    "Анна",
    "Мария",
    "София",
    "Алиса",
    "Виктория",
    "Полина",
    "Елизавета",
    "Анастасия",
    "Дарья",
    "Варвара",
    "Ксения",
    "Екатерина",
    "Вероника",
    "Милана",
    "Арина",
    "Ольга",
    "Татьяна",
    "Елена",
    "Наталья",
    "Юлия",
    "Ирина",
    "Алсу",
)

STREETS: tuple[str, ...] = (
    "ул. Ленина",
    "ул. Гагарина",
    "ул. Советская",
    "ул. Молодёжная",
    "пр-т Победы",
    "ул. Садовая",
    "ул. Мира",
    "ул. Пушкина",
    "ул. Лесная",
    "ул. Баумана",
)

FOREIGN_CITIZENSHIP: tuple[str, ...] = ("860", "762", "417", "051")  # UZ, TJ, KG, AM


def make_snils(rng: random.Random, *, valid: bool = True, used: set[str] | None = None) -> str:
    """A random 11-digit СНИЛС above 001-001-998 (so it carries a check), unique in ``used``."""
    while True:
        first9 = f"{rng.randint(SNILS_NO_CHECK_UP_TO + 1, 999_999_999):09d}"
        if used is None or first9 not in used:
            break
    if used is not None:
        used.add(first9)
    check = snils_check_digits(first9)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 99)) % 100:02d}"
    return first9 + check


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _random_parent(
    rng: random.Random,
    office: tuple[str, ...],
    act_date: date,
    *,
    female: bool,
    surname: tuple[str, str],
    age: int,
    snils: str | None,
    foreign: bool = False,
) -> ParentSpec:
    _code, _name, settlement, region, region_name, _series, issuer = office
    birth = _years_before(act_date, age) - timedelta(days=rng.randint(1, 364))
    first = rng.choice(FEMALE_NAMES) if female else rng.choice(MALE_NAMES)[0]
    father_of_parent = rng.choice(MALE_NAMES)
    middle = father_of_parent[2] if female else father_of_parent[1]
    issued_at_age = 45 if age >= 45 else 20 if age >= 20 else 14  # a passport is renewed at 20, 45
    issued = _years_before(birth, -issued_at_age) + timedelta(days=rng.randint(5, 60))
    issued = min(issued, act_date - timedelta(days=1))
    address = (
        f"{settlement}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 250)}"
    )
    if foreign:
        return ParentSpec(
            last_name=surname[1] if female else surname[0],
            first_name=first,
            middle_name=middle,
            birth_date=birth,
            snils=snils,
            citizenship=rng.choice(FOREIGN_CITIZENSHIP),
            birth_place=None,
            document_kind="10",
            document_series=None,
            document_number=f"FA{rng.randint(0, 9_999_999):07d}",
            document_date=issued,
            document_issuer=None,
            document_issuer_code=None,
            address=address,
            address_region=(region, region_name),
        )
    return ParentSpec(
        last_name=surname[1] if female else surname[0],
        first_name=first,
        middle_name=middle,
        birth_date=birth,
        snils=snils,
        citizenship="643",
        birth_place=", ".join(dict.fromkeys((settlement, region_name))),
        document_kind="21",
        document_series=f"{region} {issued.year % 100:02d}",
        document_number=f"{rng.randint(0, 999_999):06d}",
        document_date=issued,
        document_issuer=issuer,
        document_issuer_code=f"{region}0-{rng.randint(1, 99):03d}",
        address=address,
        address_region=(region, region_name),
    )


def random_birth_specs(
    rng: random.Random,
    n: int,
    *,
    act_date: date,
    start_serial: int = 1,
    stillborn_rate: float = 0.005,
    partial_date_rate: float = 0.005,
    no_mother_rate: float = 0.003,
    no_father_rate: float = 0.2,
    twins_rate: float = 0.015,
    foreign_mother_rate: float = 0.03,
    child_snils_rate: float = 0.3,
    bad_mother_snils_rate: float = 0.01,
) -> list[BirthSpec]:
    """``n`` birth act records drawn up on ``act_date``, deterministic for ``rng``'s seed.

    Act numbers are ``"1"`` + the 8-digit registry office code + the year + an 8-digit serial
    counting up from ``start_serial``, so they are unique within one call (and across calls
    given disjoint serial ranges). Twins count as two records with the same mother.
    """
    specs: list[BirthSpec] = []
    used_snils: set[str] = set()
    serial = start_serial
    while len(specs) < n:
        office = rng.choice(ZAGS_OFFICES)
        code, zags_name, settlement, _region, region_name, series, _issuer = office
        birth = act_date - timedelta(days=rng.randint(1, 10))
        no_mother = rng.random() < no_mother_rate  # a foundling: neither parent is known
        partial = not no_mother and rng.random() < partial_date_rate
        multiple = 2 if (rng.random() < twins_rate and n - len(specs) >= 2) else 1

        family = rng.choice(SURNAMES)
        mother: ParentSpec | None = None
        father: ParentSpec | None = None
        if not no_mother:
            mother_age = rng.randint(18, 42)
            mother_snils = make_snils(
                rng, valid=rng.random() >= bad_mother_snils_rate, used=used_snils
            )
            mother = _random_parent(
                rng,
                office,
                act_date,
                female=True,
                surname=family,
                age=mother_age,
                snils=mother_snils,
                foreign=rng.random() < foreign_mother_rate,
            )
            if rng.random() >= no_father_rate:
                father = _random_parent(
                    rng,
                    office,
                    act_date,
                    female=False,
                    surname=family,
                    age=min(70, mother_age + rng.randint(-2, 8)),
                    snils=make_snils(rng, used=used_snils),
                )
        father_name = (
            next(m for m in MALE_NAMES if m[0] == father.first_name)
            if father is not None
            else rng.choice(MALE_NAMES)
        )
        birth_value: date | PartialDate = birth
        if partial:
            birth_value = (
                PartialDate(birth.year, birth.month, ABSENT)
                if rng.random() < 0.7
                else PartialDate(birth.year, ABSENT, ABSENT)
            )
        stillborn = rng.random() < stillborn_rate
        place = ", ".join(dict.fromkeys((settlement, region_name, "Россия")))
        mother_child_count = rng.randint(1, 4) if mother is not None else None
        for order in range(1, multiple + 1):
            sex = 1 if rng.random() < 0.512 else 2
            first = rng.choice(MALE_NAMES)[0] if sex == 1 else rng.choice(FEMALE_NAMES)
            middle = father_name[1] if sex == 1 else father_name[2]
            last = family[0] if sex == 1 else family[1]
            if stillborn:
                first, middle = None, None
            if serial > 99_999_999:
                raise ValueError("act serial exceeds 8 digits")
            specs.append(
                BirthSpec(
                    act_number=f"1{code}{act_date.year:04d}{serial:08d}",
                    act_date=act_date,
                    zags_code=code,
                    zags_name=zags_name,
                    sex=sex,
                    last_name=last,
                    first_name=first,
                    middle_name=middle,
                    birth_date=birth_value,
                    birth_place=place,
                    stillborn=stillborn,
                    snils=(
                        make_snils(rng, used=used_snils)
                        if not stillborn and rng.random() < child_snils_rate
                        else None
                    ),
                    mother=mother,
                    father=father,
                    certificate_series=None if stillborn else series,
                    certificate_number=None if stillborn else f"{serial % 1_000_000:06d}",
                    children_in_birth=multiple,
                    birth_order=order,
                    mother_child_count=(
                        mother_child_count + order - 1 if mother_child_count else None
                    ),
                    medical_certificate=f"{rng.randint(10, 99)} {rng.randint(0, 999_999):06d}",
                )
            )
            serial += 1
    return specs


# --- ROGDZP: the push of ЕГР ЗАГС, 4.0.0 and 4.0.1 ----------------------------------------------

ROGDZP_VERSIONS = ("4.0.0", "4.0.1")
ROGDZP_ROOT_NS = {v: f"urn://x-artefacts-zags-rogdzp/root/112-23/{v}" for v in ROGDZP_VERSIONS}
ROGDZP_TYPES_NS = {v: f"urn://x-artefacts-zags-rogdzp/types/{v}" for v in ROGDZP_VERSIONS}
DIRECTIVE_NS = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/directive/1.3"
ROGDZP_STATUS_CODES = ("01", "02", "03", "07")  # СтатусЗаписи/@КодСтатус (meanings not public)
# The one status name a public sample shows; the others are left out (НаимСтатус is optional).
_STATUS_NAMES = {"01": "Запись акта первичная"}
_COUNTRY_NAMES = {
    "643": "Россия",
    "860": "Узбекистан",
    "762": "Таджикистан",
    "417": "Киргизия",
    "051": "Армения",
}
_DOCUMENT_NAMES = {
    "21": "Паспорт гражданина Российской Федерации",
    "10": "Паспорт иностранного гражданина",
}
_MATERNITY_HOSPITAL = "ГБУЗ «Родильный дом»"
_CORRECTION_DOCUMENT = "Заключение о внесении исправления в запись акта гражданского состояния"

# How specs are grouped into messages: None (one message per spec in an envelope, all in one
# bare message), an int (that many records per message), sizes, or the groups themselves.
MessagePlan = int | Sequence[int] | Sequence[Sequence[BirthSpec]] | None


def rogdzp_status(spec: BirthSpec) -> str:
    """The ``СтатусЗаписи/@КодСтатус`` a spec is written with: ``zp_status`` when given, else
    ``status_code`` when it is a ROGDZP code (01, 02, 03, 07), else "01"."""
    if spec.zp_status is not None:
        if spec.zp_status not in ROGDZP_STATUS_CODES:
            raise ValueError(
                f"zp_status {spec.zp_status!r} is not one of {', '.join(ROGDZP_STATUS_CODES)}"
            )
        return spec.zp_status
    return spec.status_code if spec.status_code in ROGDZP_STATUS_CODES else "01"


def _check_version(version: str) -> None:
    if version not in ROGDZP_VERSIONS:
        raise ValueError(f"ROGDZP version {version!r}: one of {', '.join(ROGDZP_VERSIONS)}")


def _attrs(**values: object) -> str:
    """Attributes in the order given, those that are None left out."""
    return "".join(f' {k}="{_attr(v)}"' for k, v in values.items() if v is not None)


def _as_date(value: date | PartialDate | None) -> date | None:
    if isinstance(value, PartialDate):
        return value.to_date()
    return value


def _date_400(value: date | PartialDate | None, prefix: str) -> str:
    """4.0.0's choice ДатаРожд | МесГодРожд | ГодРожд (nothing for an unknown date)."""
    if value is None:
        return ""
    full = _as_date(value)
    if full is not None:
        return _el(f"{prefix}ДатаРожд", full.isoformat())
    assert isinstance(value, PartialDate)
    if isinstance(value.month, int):
        return _el(f"{prefix}МесГодРожд", f"{value.year:04d}-{value.month:02d}")
    return _el(f"{prefix}ГодРожд", f"{value.year:04d}")


def _series_number(series: str | None, number: str | None) -> str | None:
    return " ".join(p for p in (series, number) if p) or None


def _zp_address(p: ParentSpec, version: str) -> str:
    """АдрМЖИн abroad, else АдрМЖРФ (with its КЛАДР region when known); "" without address."""
    if p.address is None:
        return ""
    if p.address_country is not None:
        country = p.address_country
        attrs = _attrs(ОКСМ=country, НаимСтраны=_COUNTRY_NAMES.get(country), АдрТекст=p.address)
        return f"<t:АдрМЖИн{attrs}/>"
    kladr = ""
    if p.address_region is not None:
        code, name = p.address_region
        kladr = f"<t:АдрКЛАДР{_attrs(КодРегион=code, НаимРегион=name)}/>"
    extra = {"ПрТипАдрРФ": "1"} if version == "4.0.1" else {}
    return f"<t:АдрМЖРФ{_attrs(АдрРФТекст=p.address, **extra)}>{kladr}</t:АдрМЖРФ>"


def _zp_document(p: ParentSpec, version: str) -> str:
    if p.document_number is None and p.document_series is None:
        return ""
    issued = p.document_date.isoformat() if p.document_date else None
    issuer_code = {"КодВыдДок": p.document_issuer_code} if version == "4.0.0" else {}
    attrs = _attrs(
        КодВидДок=p.document_kind,
        НаимДок=_DOCUMENT_NAMES.get(p.document_kind),
        СерНомДок=_series_number(p.document_series, p.document_number),
        ДатаДок=issued,
        ВыдДок=p.document_issuer,
        **issuer_code,
    )
    return f"<t:УдЛичнФЛ{attrs}/>"


def _zp_parent(tag: str, p: ParentSpec, version: str) -> str:
    """СведМать / СведОтец (root namespace) with children in the types namespace."""
    name = _name("t:ФИО", p.last_name, p.first_name, p.middle_name)
    document = _zp_document(p, version)
    address = _zp_address(p, version)
    if version == "4.0.0":
        country = _COUNTRY_NAMES.get(p.citizenship or "")
        place = ""
        if p.birth_place is not None:
            place = f"<t:МестоРожден{_attrs(МестоТекст=p.birth_place)}/>"
        return (
            f"<{tag}{_attrs(ОКСМ=p.citizenship, НаимСтраны=country)}>{name}{place}"
            f"{_date_400(p.birth_date, 't:')}{document}{address}</{tag}>"
        )
    if p.citizenship is None:
        citizenship = "<t:ПрГражданство>1</t:ПрГражданство>"
    else:
        country = _COUNTRY_NAMES.get(p.citizenship)
        citizenship = f"<t:Гражданство{_attrs(ОКСМ=p.citizenship, НаимСтраны=country)}/>"
    place = (
        "<t:ПрМестоРожден>1</t:ПрМестоРожден>"
        if p.birth_place is None
        else f'<t:МестоРожден ПризнМесто="1"{_attrs(МестоТекст=p.birth_place)}/>'
    )
    return (
        f"<{tag}>{citizenship}{name}"
        f"{_date_choice(p.birth_date, 't:ДатаРождКаленд', 't:ДатаРождДок', 't:ПрДатаРожд')}"
        f"{place}{document or '<t:ПрУдЛичнФЛ>1</t:ПрУдЛичнФЛ>'}"
        f"{f'<t:АдрМЖ>{address}</t:АдрМЖ>' if address else '<t:ПрАдрМЖ>1</t:ПрАдрМЖ>'}</{tag}>"
    )


def _zp_child(spec: BirthSpec, version: str) -> str:
    out = [f'<СведРодившемся ЖивМертв="{1 if spec.stillborn else 0}" Пол="{spec.sex}">']
    out.append(_name("ФИОРожд", spec.last_name, spec.first_name, spec.middle_name))
    place = _attrs(МестоТекст=spec.birth_place, КодСтраны="643", НаимСтраны="Россия")
    if version == "4.0.0":
        out.append(_date_400(spec.birth_date, ""))
        if spec.birth_place is not None:
            out.append(f"<МестоРожден{place}/>")
    else:
        out.append(_date_choice(spec.birth_date, "ДатаРождКаленд", "ДатаРождДок", "ПрДатаРожд"))
        out.append(
            "<ПрМестоРожден>1</ПрМестоРожден>"
            if spec.birth_place is None
            else f'<МестоРожден ПризнМесто="1"{place}/>'
        )
    out.append("</СведРодившемся>")
    return "".join(out)


def _zp_birth_document(spec: BirthSpec) -> str:
    kind = (
        "Медицинское свидетельство о перинатальной смерти"
        if spec.stillborn
        else "Медицинское свидетельство о рождении"
    )
    born = _as_date(spec.birth_date)
    attrs = _attrs(
        НаимДок=kind,
        СерНомДок=spec.medical_certificate,
        ДатаДок=born.isoformat() if born else None,
    )
    return f"<СведДокРод{attrs}>{_el('t:НаимОрг', _MATERNITY_HOSPITAL)}</СведДокРод>"


def _zp_father_ground(spec: BirthSpec) -> str:
    return (
        '<СведДокОснОтец><t:ДокОсн НаимДок="Свидетельство о заключении брака">'
        f"{_el('t:НаимОрг', spec.zags_name)}</t:ДокОсн></СведДокОснОтец>"
    )


def _zp_registration(spec: BirthSpec, version: str) -> str:
    if version == "4.0.0":
        return "".join(
            (
                f"<ПрдСведРег{_attrs(КолРодДетей=spec.children_in_birth)}>",
                _zp_child(spec, version),
                "" if spec.mother is None else _zp_parent("СведМать", spec.mother, version),
                "" if spec.father is None else _zp_parent("СведОтец", spec.father, version),
                "" if spec.medical_certificate is None else _zp_birth_document(spec),
                "" if spec.father is None else _zp_father_ground(spec),
                "</ПрдСведРег>",
            )
        )
    return "".join(
        (
            "<ПрдСведРег>",
            _choice("КолРодДетей", spec.children_in_birth, "ПрКолРодДетей"),
            _zp_child(spec, version),
            "<ПрМать>1</ПрМать>"
            if spec.mother is None
            else _zp_parent("СведМать", spec.mother, version),
            "<ПрОтец>1</ПрОтец>"
            if spec.father is None
            else _zp_parent("СведОтец", spec.father, version),
            "<ПрСведДокРод>1</ПрСведДокРод>"
            if spec.medical_certificate is None
            else _zp_birth_document(spec),
            "<ПрСведДокОснОтец>1</ПрСведДокОснОтец>"
            if spec.father is None
            else _zp_father_ground(spec),
            "</ПрдСведРег>",
        )
    )


def _certificate_zp(tag: str, series: str | None, number: str | None, issued: date) -> str:
    attrs = _attrs(СерияСвидет=series, НомерСвидет=number, ДатаВыдСвидет=issued.isoformat())
    return f"<{tag}{attrs}/>"


def _zp_record(spec: BirthSpec, version: str) -> str:
    version_date = spec.version_date or spec.act_date
    head = {"НомерЗапис": spec.act_number, "ДатаЗапис": spec.act_date.isoformat()}
    if version == "4.0.1":
        head |= {"НомерВерс": spec.version, "ДатаВерс": version_date.isoformat()}
    status = rogdzp_status(spec)
    status_attrs = _attrs(
        ДатаНачСтатус=(spec.zp_status_date or version_date).isoformat(),
        КодСтатус=status,
        НаимСтатус=_STATUS_NAMES.get(status),
    )
    out = [
        f"<СведРегРожд{_attrs(**head)}>",
        f"<ОрганЗАГС{_attrs(НаимЗАГС=spec.zags_name, КодЗАГС=spec.zags_code)}/>",
        f"<СтатусЗаписи{status_attrs}/>",
    ]
    if spec.certificate_series is not None or spec.certificate_number is not None:
        issued = spec.certificate_date or spec.act_date
        out.append(
            _certificate_zp("СвидетРожд", spec.certificate_series, spec.certificate_number, issued)
        )
    repeat_tag = "ПовтСвидет" if version == "4.0.1" else "СвидетРожд"
    for series, number, issued in spec.repeat_certificates:
        out.append(_certificate_zp(repeat_tag, series, number, issued))
    out.append(_zp_registration(spec, version))
    for changed, content in spec.corrections:
        out.append(
            f"<СведИспрАГС{_attrs(ДатаВнесИспр=changed.isoformat(), СодержИспр=content)}>"
            f'<t:СведДокИспрАГС><t:ДокОсн НаимДок="{_attr(_CORRECTION_DOCUMENT)}">'
            f"{_el('t:НаимОрг', spec.zags_name)}</t:ДокОсн></t:СведДокИспрАГС></СведИспрАГС>"
        )
    out.append("</СведРегРожд>\n")
    return "".join(out)


def _latest(spec: BirthSpec) -> date:
    dates = [spec.version_date or spec.act_date, spec.act_date]
    dates += [d for d in (spec.zp_status_date,) if d is not None]
    dates += [changed for changed, _content in spec.corrections]
    return max(dates)


def rogdzp_message_id(version: str, index: int, specs: Sequence[BirthSpec]) -> str:
    """The ``ИдСвед`` write_rogdzp gives message ``index`` (from 1): a UUID derived from the
    version, the position and the records' act numbers and versions."""
    return str(uuid.uuid5(_UUID_NS, f"ROGDZP/{version}/{index}/{_request_id(specs)}"))


def _zp_message(
    specs: Sequence[BirthSpec], version: str, message_id: str, info_date: date | None
) -> str:
    if info_date is None:
        info_date = max((_latest(s) for s in specs), default=date(2000, 1, 1))
    body = "".join(_zp_record(spec, version) for spec in specs)
    return (
        f'<ROGDZPRequest xmlns="{ROGDZP_ROOT_NS[version]}" xmlns:t="{ROGDZP_TYPES_NS[version]}"'
        f"{_attrs(ИдСвед=message_id, ДатаСвед=info_date.isoformat())}>\n{body}</ROGDZPRequest>"
    )


def _message_groups(
    specs: Sequence[BirthSpec], messages: MessagePlan, envelope: bool
) -> list[list[BirthSpec]]:
    specs = list(specs)
    if messages is None:
        groups = [[s] for s in specs] if envelope else [specs]
    elif isinstance(messages, int):
        if messages < 1:
            raise ValueError("messages: at least one record per message")
        groups = [specs[i : i + messages] for i in range(0, len(specs), messages)]
    else:
        plan = list(messages)
        if not plan:
            raise ValueError("messages: at least one message")
        sizes = [m for m in plan if isinstance(m, int)]
        if len(sizes) == len(plan):
            if any(m < 0 for m in sizes) or sum(sizes) != len(specs):
                raise ValueError("messages: sizes must be >= 0 and add up to len(specs)")
            groups, start = [], 0
            for size in sizes:
                groups.append(specs[start : start + size])
                start += size
        else:
            groups = []
            for group in plan:
                if isinstance(group, (BirthSpec, int, str)) or not all(
                    isinstance(s, BirthSpec) for s in group
                ):
                    raise TypeError("messages: sizes, or groups (sequences) of BirthSpec")
                groups.append(list(group))
            if specs and [s for g in groups for s in g] != specs:
                raise ValueError("messages: the groups must hold specs, in order")
    groups = groups or [[]]
    if not envelope and len(groups) != 1:
        raise ValueError("a bare ROGDZPRequest is one message: use envelope=True for several")
    return groups


def rogdzp_document(
    specs: Sequence[BirthSpec],
    *,
    version: str = "4.0.1",
    messages: MessagePlan = None,
    envelope: bool = True,
    info_date: date | None = None,
    message_ids: Sequence[str] | None = None,
) -> bytes:
    """The bytes :func:`write_rogdzp` writes (UTF-8, with an XML declaration)."""
    _check_version(version)
    groups = _message_groups(specs, messages, envelope)
    if message_ids is not None and len(message_ids) != len(groups):
        raise ValueError(f"message_ids: {len(groups)} needed, {len(message_ids)} given")
    ids = (
        list(message_ids)
        if message_ids is not None
        else [rogdzp_message_id(version, i, g) for i, g in enumerate(groups, start=1)]
    )
    bodies = [_zp_message(g, version, i, info_date) for g, i in zip(groups, ids, strict=True)]
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if not envelope:
        out.append(bodies[0] + "\n")
    else:
        out.append(
            f'<Request xmlns="{ROGDZP_ROOT_NS[version]}" xmlns:dir="{DIRECTIVE_NS}">'
            "<dir:Registry>\n"
        )
        for n, body in enumerate(bodies, start=1):
            out.append(
                f"<dir:RegistryRecord><dir:RecordId>{n}</dir:RecordId>"
                f'<dir:Record Id="record-{n}"><dir:RecordContent Id="content-{n}">\n{body}\n'
                "</dir:RecordContent></dir:Record></dir:RegistryRecord>\n"
            )
        out.append("</dir:Registry></Request>\n")
    return "".join(out).encode("utf-8")


def write_rogdzp(
    path: Path | str,
    specs: Sequence[BirthSpec],
    *,
    version: str = "4.0.1",
    messages: MessagePlan = None,
    envelope: bool = True,
    info_date: date | None = None,
    message_ids: Sequence[str] | None = None,
) -> Path:
    """Write ``specs`` as one ROGDZP file (UTF-8) of ``version`` ("4.0.0" or "4.0.1").

    With ``envelope`` (the default) the file is the СМЭВ registry envelope, ``Request /
    Registry`` with one ``RegistryRecord`` per message (``RecordId`` 1, 2, …), each holding one
    ``ROGDZPRequest``; without it, one bare ``ROGDZPRequest``. ``messages`` groups the specs:
    None (one message per spec; all of them in the one bare message), an int (that many records
    per message), a list of sizes (``[2, 1]``), or the groups themselves (``[[a, b], [c]]``; an
    empty group writes a message without records). ``ИдСвед`` is derived from the specs
    (:func:`rogdzp_message_id`) unless ``message_ids`` gives one per message; ``ДатаСвед`` is
    ``info_date`` or the latest date among a message's records. The same arguments give the
    same bytes.
    """
    path = Path(path)
    path.write_bytes(
        rogdzp_document(
            specs,
            version=version,
            messages=messages,
            envelope=envelope,
            info_date=info_date,
            message_ids=message_ids,
        )
    )
    return path


def rogdzp_response(message_id: str, *, version: str = "4.0.1") -> bytes:
    """The acknowledgement of one message: ``ROGDZPResponse @ИдСвед @КодОбр="1"`` (UTF-8)."""
    _check_version(version)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ROGDZPResponse xmlns="{ROGDZP_ROOT_NS[version]}"'
        f'{_attrs(ИдСвед=message_id)} КодОбр="1"/>\n'
    ).encode()


# --- ROGDZP: sample records and adversarial variants -------------------------------------------


def rogdzp_sample_specs(act_date: date = date(2025, 3, 14)) -> list[BirthSpec]:
    """Seven fixed records covering what ROGDZP can say, deterministic:

    0. a girl, both parents, full dates;
    1. a boy born in a known month (day unknown), no father, the mother's birth year only;
    2. a foreign mother (passport of a foreign citizen), no father, a second version of the
       record with status "02", a repeat certificate and a correction;
    3. a stillbirth: no first name or patronymic, no certificate, number of children flagged;
    4. a foundling: neither parent, birth date and place unknown;
    5, 6. twins, the father a foreign citizen residing abroad.
    """
    rng = random.Random(20250314)
    office = ZAGS_OFFICES[0]
    code, zags_name, settlement, _region, region_name, series, _issuer = office
    surname = ("Гарипов", "Гарипова")

    def parent(female: bool, age: int, foreign: bool = False) -> ParentSpec:
        return _random_parent(
            rng,
            office,
            act_date,
            female=female,
            surname=surname,
            age=age,
            snils=None,
            foreign=foreign,
        )

    def number(serial: int) -> str:
        return f"1{code}{act_date.year:04d}{serial:08d}"

    born = act_date - timedelta(days=5)
    mother, father = parent(True, 29), parent(False, 31)
    patronymic = next(m for m in MALE_NAMES if m[0] == father.first_name)
    place = f"{settlement}, {region_name}, Россия"
    base = BirthSpec(
        act_number=number(1),
        act_date=act_date,
        zags_code=code,
        zags_name=zags_name,
        sex=2,
        last_name=surname[1],
        first_name="Алсу",
        middle_name=patronymic[2],
        birth_date=born,
        birth_place=place,
        mother=mother,
        father=father,
        certificate_series=series,
        certificate_number="000001",
        children_in_birth=1,
        medical_certificate="92 104417",
    )
    foreign_mother = parent(True, 26, foreign=True)
    abroad = dataclasses.replace(
        parent(False, 33, foreign=True),
        citizenship="051",
        address="Армения, г. Ереван, ул. Абовяна, д. 3, кв. 12",
        address_country="051",
        address_region=None,
    )
    return [
        base,
        dataclasses.replace(
            base,
            act_number=number(2),
            sex=1,
            first_name="Тимур",
            middle_name=None,
            birth_date=PartialDate(born.year, born.month, ABSENT),
            father=None,
            mother=dataclasses.replace(
                mother, birth_date=PartialDate(mother.birth_date.year, ABSENT, ABSENT)
            ),
            certificate_number="000002",
            medical_certificate="92 104418",
        ),
        dataclasses.replace(
            base,
            act_number=number(3),
            last_name=foreign_mother.last_name,
            middle_name=None,
            mother=foreign_mother,
            father=None,
            version="2",
            version_date=act_date + timedelta(days=20),
            zp_status="02",
            certificate_number="000003",
            repeat_certificates=((series, "000107", act_date + timedelta(days=20)),),
            corrections=((act_date + timedelta(days=20), "Исправлено имя ребёнка"),),
            medical_certificate="92 104419",
        ),
        dataclasses.replace(
            base,
            act_number=number(4),
            sex=1,
            last_name=surname[0],
            first_name=None,
            middle_name=None,
            stillborn=True,
            certificate_series=None,
            certificate_number=None,
            children_in_birth=None,
            medical_certificate="92 104420",
        ),
        dataclasses.replace(
            base,
            act_number=number(5),
            last_name="Найдёнова",
            first_name="Вера",
            middle_name="Ивановна",
            birth_date=None,
            birth_place=None,
            mother=None,
            father=None,
            certificate_number="000005",
            medical_certificate=None,
        ),
        *(
            dataclasses.replace(
                base,
                act_number=number(serial),
                sex=sex,
                first_name=first,
                middle_name=None,
                father=abroad,
                certificate_number=f"{serial:06d}",
                children_in_birth=2,
                medical_certificate=f"92 1044{serial + 14:02d}",
            )
            for serial, sex, first in ((6, 1, "Марк"), (7, 2, "Милана"))
        ),
    ]


@dataclass(frozen=True, slots=True)
class RogdzpVariant:
    """An unusual or broken ROGDZP file (:func:`rogdzp_variant`) and what must happen to it."""

    name: str
    description: str
    schema_valid: bool  # under the project's schema of the file's version
    reader_refuses: bool  # a reader must refuse the file (by its schema or its own checks)
    envelope_only: bool = False


ROGDZP_VARIANTS: dict[str, RogdzpVariant] = {
    v.name: v
    for v in (
        RogdzpVariant(
            "several_messages",
            "an envelope of three RegistryRecords, the second holding two records",
            schema_valid=True,
            reader_refuses=False,
            envelope_only=True,
        ),
        RogdzpVariant(
            "unknown_content",
            "a RecordContent holding a FATALZPRequest (a death push) instead of ROGDZPRequest",
            schema_valid=True,  # the lax wildcard lets it through
            reader_refuses=True,
            envelope_only=True,
        ),
        RogdzpVariant(
            "other_version_inside",
            "a ROGDZPRequest of the other version inside this version's envelope",
            schema_valid=True,  # the lax wildcard knows no declaration of the other version
            reader_refuses=True,
            envelope_only=True,
        ),
        RogdzpVariant(
            "two_in_content",
            "a RecordContent holding two ROGDZPRequest",
            schema_valid=False,
            reader_refuses=True,
            envelope_only=True,
        ),
        RogdzpVariant(
            "nested_envelope",
            "a RecordContent holding a whole Request envelope",
            schema_valid=True,  # Request is a global element: validated, and valid
            reader_refuses=True,
            envelope_only=True,
        ),
        RogdzpVariant(
            "missing_act_date",
            "the first record without its ДатаЗапис",
            schema_valid=False,
            reader_refuses=True,
        ),
        RogdzpVariant(
            "status_05",
            'СтатусЗаписи/@КодСтатус="05"',
            schema_valid=False,
            reader_refuses=True,
        ),
        RogdzpVariant(
            "stillborn_2",
            'СведРодившемся/@ЖивМертв="2"',
            schema_valid=False,
            reader_refuses=True,
        ),
        RogdzpVariant(
            "missing_message_id",
            "the first ROGDZPRequest without ИдСвед",
            schema_valid=True,  # use= not recoverable: the reader checks it
            reader_refuses=True,
        ),
        RogdzpVariant(
            "other_version_element",
            "the child's birth date as the other version writes it (ДатаРожд in 4.0.1, "
            "ДатаРождКаленд in 4.0.0)",
            schema_valid=False,
            reader_refuses=True,
        ),
        RogdzpVariant(
            "rogdinf_400",
            "a ROGDINFResponse in the ROGDINF 4.0.0 namespace (112-51/4.0.0): an unsupported "
            "format version, valid under neither ROGDZP schema",
            schema_valid=False,
            reader_refuses=True,
        ),
    )
}

_FATALZP_NS = "urn://x-artefacts-zags-fatalzp/root/112-25/4.0.1"
ROGDINF_400_ROOT_NS = "urn://x-artefacts-zags-rogdinf/root/112-51/4.0.0"
ROGDINF_400_TYPES_NS = "urn://x-artefacts-zags-rogdinf/types/4.0.0"


def _other(version: str) -> str:
    return "4.0.0" if version == "4.0.1" else "4.0.1"


def _find(root: etree._Element, local: str) -> list[etree._Element]:
    return root.xpath(f"//*[local-name()='{local}']")


def _replace_child(content: etree._Element, new: etree._Element) -> None:
    content.replace(content[0], new)


def rogdzp_variant(name: str, *, version: str = "4.0.1", envelope: bool = True) -> bytes:
    """The bytes of variant ``name`` (a key of :data:`ROGDZP_VARIANTS`) of ``version``.

    Every variant starts from the first records of :func:`rogdzp_sample_specs` (in an envelope:
    two messages, of one and two records) and changes one thing. ``envelope=False`` gives the
    bare ``ROGDZPRequest`` form, for the variants that have one.
    """
    _check_version(version)
    variant = ROGDZP_VARIANTS[name]
    if variant.envelope_only and not envelope:
        raise ValueError(f"variant {name!r} exists only in an envelope")
    specs = rogdzp_sample_specs()
    if name == "rogdinf_400":
        spec = specs[0]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ROGDINFResponse xmlns="{ROGDINF_400_ROOT_NS}" xmlns:t="{ROGDINF_400_TYPES_NS}" '
            f'ИдЗапрос="{_request_id([spec])}" ДатаСвед="{spec.act_date.isoformat()}" '
            'КолДок="1" ТипАГСЗапрос="01">\n'
            f'<СведОтветАГС ИдДок="{uuid.uuid5(_UUID_NS, "rogdinf-4.0.0")}" РезОбраб="1">\n'
            f"{_record(spec)}</СведОтветАГС>\n</ROGDINFResponse>\n"
        ).encode()
    if name == "several_messages":
        return rogdzp_document(specs[:4], version=version, messages=[1, 2, 1])
    plan = [1, 2] if envelope else None
    base = rogdzp_document(specs[:3], version=version, messages=plan, envelope=envelope)
    root = etree.fromstring(base)
    ns = ROGDZP_ROOT_NS[version]
    contents = _find(root, "RecordContent")
    if name == "unknown_content":
        stranger = etree.Element(f"{{{_FATALZP_NS}}}FATALZPRequest", nsmap={None: _FATALZP_NS})
        stranger.set("ИдСвед", str(uuid.uuid5(_UUID_NS, "fatalzp")))
        stranger.set("ДатаСвед", specs[0].act_date.isoformat())
        _replace_child(contents[-1], stranger)
    elif name == "other_version_inside":
        other = rogdzp_document(specs[:1], version=_other(version), envelope=False)
        _replace_child(contents[0], etree.fromstring(other))
    elif name == "two_in_content":
        twin = copy.deepcopy(contents[0][0])
        twin.set("ИдСвед", str(uuid.uuid5(_UUID_NS, f"twin/{twin.get('ИдСвед')}")))
        contents[0].append(twin)
    elif name == "nested_envelope":
        inner = etree.fromstring(rogdzp_document(specs[:1], version=version, envelope=True))
        for elem in inner.xpath("//*[@Id]"):  # xs:ID values are unique in a document
            elem.set("Id", f"inner-{elem.get('Id')}")
        _replace_child(contents[0], inner)
    elif name == "missing_act_date":
        del _find(root, "СведРегРожд")[0].attrib["ДатаЗапис"]
    elif name == "status_05":
        _find(root, "СтатусЗаписи")[0].set("КодСтатус", "05")
    elif name == "stillborn_2":
        _find(root, "СведРодившемся")[0].set("ЖивМертв", "2")
    elif name == "missing_message_id":
        del _find(root, "ROGDZPRequest")[0].attrib["ИдСвед"]
    elif name == "other_version_element":
        child = _find(root, "СведРодившемся")[0]
        current, foreign = (
            ("ДатаРождКаленд", "ДатаРожд") if version == "4.0.1" else ("ДатаРожд", "ДатаРождКаленд")
        )
        old = child.find(f"{{{ns}}}{current}")
        new = etree.Element(f"{{{ns}}}{foreign}")
        new.text = old.text
        child.replace(old, new)
    else:  # pragma: no cover - every name of ROGDZP_VARIANTS is handled above
        raise AssertionError(name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def write_rogdzp_variant(
    path: Path | str, name: str, *, version: str = "4.0.1", envelope: bool = True
) -> Path:
    """Write :func:`rogdzp_variant` to ``path`` and return it."""
    path = Path(path)
    path.write_bytes(rogdzp_variant(name, version=version, envelope=envelope))
    return path


def rogdzp_fixtures() -> dict[str, bytes]:
    """The files kept in ``tests/fixtures/zags/rogdzp/``, by file name (see its README)."""
    specs = rogdzp_sample_specs()
    out: dict[str, bytes] = {}
    for version in ROGDZP_VERSIONS:
        out[f"valid-{version}-envelope.xml"] = rogdzp_document(
            specs, version=version, messages=[2, 1, 1, 1, 2]
        )
        out[f"valid-{version}-bare.xml"] = rogdzp_document(specs, version=version, envelope=False)
        first = rogdzp_message_id(version, 1, specs[:2])
        out[f"ack-{version}.xml"] = rogdzp_response(first, version=version)
    for name in ROGDZP_VARIANTS:
        if name == "rogdinf_400":
            out["rogdinf-4.0.0.xml"] = rogdzp_variant(name)
            continue
        out[f"{name}-4.0.1.xml"] = rogdzp_variant(name)
    out["other_version_inside-4.0.0.xml"] = rogdzp_variant("other_version_inside", version="4.0.0")
    out["other_version_element-4.0.0.xml"] = rogdzp_variant(
        "other_version_element", version="4.0.0"
    )
    return out


def write_rogdzp_fixtures(directory: Path | str) -> list[Path]:
    """(Re)write :func:`rogdzp_fixtures` into ``directory``; the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, content in rogdzp_fixtures().items():
        target = directory / file_name
        target.write_bytes(content)
        written.append(target)
    return written
