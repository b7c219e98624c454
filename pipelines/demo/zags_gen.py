"""Realistic ЕГР ЗАГС "ROGDINF" 4.0.1 birth files, valid under the official schema.

Everything here is made up: names come from short lists, СНИЛС are random numbers with correct
(or, on request, deliberately wrong) check digits. The output is deterministic for a given
``random.Random`` seed, so tests and demos can rely on it.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

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
    birth_date: date | PartialDate  # a date writes ДатаРождКаленд, a PartialDate ДатаРождДок
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
