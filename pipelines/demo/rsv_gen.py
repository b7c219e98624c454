"""Realistic РСВ files (ФНС КНД 1151111, format 5.08, or an older one) for demos, tests and
benchmarks.

What :func:`write_rsv` writes is valid under the official ФНС schema (the tests check it) and
follows the schema's business conditions where they are cheap to honour: a signatory with a
name, contribution totals (``ОбязПлатСВ``) consistent with the person blocks, annulments only in
corrections. Everything is deterministic: the same spec, or the same ``random.Random`` seed,
gives byte-identical files.

A report in a version before 5.08 (``RsvReportSpec.form_version``) is the same report as the
earlier form spelt it: the categories renamed in 5.08 are written by their old codes (ВППВ as
ВПМС, see :data:`pipelines.parse.rsv_versions.RENAMED_IN_5_08`), and ``omit_birth_and_document``
leaves out ДатаРожд and СерНомДок as real 5.06 files do. No official schema of those versions is
public: such a file is valid under the schema the project derives for the version.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TypeAlias

from pipelines.identifiers import inn_check_digits, snils_check_digits
from pipelines.parse.rsv_versions import RENAMED_IN_5_08, VERSIONS

FORM_VERSION = "5.08"
KND = "1151111"
PROGRAM_VERSION = "ЕРЗЛ демо-генератор РСВ 1.0"
ENCODING = "windows-1251"

# КБК of the single contribution tariff (ОПС, ОМС and ОСС together, from 2023).
SINGLE_TARIFF_KBK = "18210201000011000160"
# Contribution rate written into СвВыплМК/@НачислСВ: the ОПС share of the single tariff.
_PENSION_RATE = Decimal("0.22")
_TOTAL_RATE = Decimal("0.30")
_CENT = Decimal("0.01")

QUARTER_PERIOD: dict[int, str] = {1: "21", 2: "31", 3: "33", 4: "34"}
"""Quarter → the Период code of the report whose person data cover it."""

_PERIOD_END_MONTH = {"21": 3, "31": 6, "33": 9, "34": 12}
_PERIOD_END_MONTH.update({"51": 3, "52": 6, "53": 9, "90": 12})
_PERIOD_END_MONTH.update({"83": 3, "84": 6, "85": 9, "86": 12})

MonthPayment: TypeAlias = tuple[int, str, Decimal]
"""One month of pay: (month 1..3 within the quarter, КодКатЛиц, amount)."""


# --- specs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RsvPersonSpec:
    """One insured-person block (``ПерсСвСтрахЛиц``)."""

    snils: str | None  # 11 digits or printed; None writes no СНИЛС (invalid for ФНС)
    last_name: str | None
    first_name: str | None
    middle_name: str | None = None
    birth_date: date | None = date(1990, 1, 1)  # None writes no ДатаРожд (invalid in 5.08)
    citizenship: str = "643"  # ОКСМ: 643 Russia, 860 Uzbekistan, 762 Tajikistan
    sex: int = 1  # 1 male, 2 female
    document_kind: str = "21"  # СПДУЛ: 21 Russian passport, 10 foreign passport, ...
    document_number: str | None = "45 00 000001"  # series and number; None: no СерНомДок
    inn: str | None = None
    annulled: bool = False
    months: tuple[MonthPayment, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "months", tuple(self.months))


@dataclass(frozen=True, slots=True)
class RsvReportSpec:
    """One report of one payer for one period.

    ``payer_inn`` is written as given: :func:`make_org_inn` composes one with a valid check
    digit (the default) or a deliberately wrong one. A payer that is a person (an individual
    entrepreneur) is written as ``НПФЛ`` when ``payer_person`` is set; ``payer_inn`` then has
    12 digits and ``payer_kpp`` is ignored.

    ``form_version`` is the ``ВерсФорм`` written; categories are given as 5.08 spells them and
    written as the version does. ``omit_birth_and_document`` writes no ДатаРожд and СерНомДок
    in any block, as СБИС's 5.06 files do; only for a version that makes them optional. A
    version the reader does not know is written as given, with 5.08's spelling (to test that
    it is refused).
    """

    payer_name: str
    payer_inn: str
    payer_kpp: str
    year: int
    period_code: str = "21"
    correction_no: int = 0
    document_date: date | None = None  # default: the 25th of the month after the period
    persons: Sequence[RsvPersonSpec] = ()
    tax_office: str | None = None  # КодНО, <A> of the file name; default: the КПП's office
    receiver_office: str | None = None  # <K> of the file name; default: the tax office
    oktmo: str = "45382000"
    signer: tuple[str, str, str | None] = ("Смирнов", "Олег", "Викторович")
    file_guid: str | None = None  # default: derived from the report's key
    payer_person: tuple[str, str, str | None] | None = None
    payer_ogrnip: str | None = None
    form_version: str = FORM_VERSION
    omit_birth_and_document: bool = False

    @property
    def is_individual(self) -> bool:
        return self.payer_person is not None

    @property
    def office(self) -> str:
        if self.tax_office:
            return self.tax_office
        return (self.payer_inn if self.is_individual else self.payer_kpp)[:4]

    @property
    def effective_document_date(self) -> date:
        if self.document_date is not None:
            return self.document_date
        end_month = _PERIOD_END_MONTH[self.period_code]
        if end_month == 12:
            return date(self.year + 1, 1, 25)
        return date(self.year, end_month + 1, 25)

    @property
    def file_id(self) -> str:
        """``NO_RASCHSV_<A>_<K>_<payer id>_<YYYYMMDD>_<GUID>``, also the file name's stem.

        <A> is the tax office the report is for, <K> the office that receives it (the same
        unless it goes through a regional office), the payer id is ИНН+КПП for an
        organisation and the 12-digit ИНН for a person.
        """
        payer_id = self.payer_inn if self.is_individual else self.payer_inn + self.payer_kpp
        receiver = self.receiver_office or self.office
        guid = (
            self.file_guid
            or str(
                uuid.uuid5(
                    uuid.NAMESPACE_OID,
                    f"rsv:{payer_id}:{self.year}:{self.period_code}:{self.correction_no}",
                )
            ).upper()
        )
        day = self.effective_document_date
        stamp = f"{day.year:04d}{day.month:02d}{day.day:02d}"
        return f"NO_RASCHSV_{self.office}_{receiver}_{payer_id}_{stamp}_{guid}"

    def with_wrong_inn_check_digit(self) -> RsvReportSpec:
        """The same report with the payer ИНН's last check digit off by one."""
        inn = self.payer_inn
        return replace(self, payer_inn=inn[:-1] + str((int(inn[-1]) + 1) % 10))


# --- identifiers ------------------------------------------------------------------------------


def make_org_inn(first9: str, *, valid: bool = True) -> str:
    """A 10-digit ИНН from its first nine digits: valid check digit, or deliberately wrong."""
    inn = first9 + inn_check_digits(first9)
    return inn if valid else inn[:9] + str((int(inn[9]) + 1) % 10)


def make_person_inn(first10: str) -> str:
    """A 12-digit ИНН with both check digits."""
    return first10 + inn_check_digits(first10)


def make_snils(number: int) -> str:
    """Eleven digits: a 9-digit number above 001-001-998 and its check digits."""
    if not 1_001_998 < number <= 999_999_999:
        raise ValueError("СНИЛС number out of the checked range")
    first9 = f"{number:09d}"
    return first9 + snils_check_digits(first9)


def printed_snils(value: str) -> str:
    """``NNN-NNN-NNN NN`` as the format writes it; other forms are written unchanged."""
    if len(value) == 11 and value.isascii() and value.isdigit():
        return f"{value[0:3]}-{value[3:6]}-{value[6:9]} {value[9:11]}"
    return value


# --- writing ----------------------------------------------------------------------------------


_NEEDS_ESCAPE = re.compile(r'[&<>"\n\r\t]')


def _q(value: object) -> str:
    """An attribute value, quoted and escaped."""
    text = str(value)
    if _NEEDS_ESCAPE.search(text):
        text = (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
            .replace("\n", "&#10;")
            .replace("\r", "&#13;")
            .replace("\t", "&#9;")
        )
    return f'"{text}"'


def _ddmmyyyy(value: date) -> str:
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def _money(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):f}"


def _name_attrs(last: str | None, first: str | None, middle: str | None) -> str:
    parts = []
    if last is not None:
        parts.append(f" Фамилия={_q(last)}")
    if first is not None:
        parts.append(f" Имя={_q(first)}")
    if middle is not None:
        parts.append(f" Отчество={_q(middle)}")
    return "".join(parts)


def _person_xml(
    person: RsvPersonSpec, categories: dict[str, str] | None = None, omit: bool = False
) -> str:
    # Hot path for large files: only free text goes through _q; codes, dates and numbers
    # are written from typed values and need no escaping. ``categories`` respells category
    # codes for an older version; ``omit`` leaves out ДатаРожд and СерНомДок.
    snils = f" СНИЛС={_q(printed_snils(person.snils))}" if person.snils is not None else ""
    inn = f" ИННФЛ={_q(person.inn)}" if person.inn is not None else ""
    born = None if omit else person.birth_date
    born_attr = (
        f' ДатаРожд="{born.day:02d}.{born.month:02d}.{born.year:04d}"' if born is not None else ""
    )
    number = None if omit else person.document_number
    number_attr = f" СерНомДок={_q(number)}" if number is not None else ""
    head = (
        '      <ПерсСвСтрахЛиц ПрАннулир="1">\n' if person.annulled else "      <ПерсСвСтрахЛиц>\n"
    )
    text = (
        f"{head}        <ДанФЛПолуч{snils}{inn}{born_attr}"
        f" Гражд={_q(person.citizenship)} Пол={_q(person.sex)}"
        f" КодВидДок={_q(person.document_kind)}{number_attr}>\n"
        f"          <ФИО{_name_attrs(person.last_name, person.first_name, person.middle_name)}/>\n"
        "        </ДанФЛПолуч>\n"
    )
    # An annulling block carries no payments (the official schema's condition).
    if person.annulled or not person.months:
        return text + "      </ПерсСвСтрахЛиц>\n"
    rows = []
    for month, category, amount in person.months:
        if categories:
            category = categories.get(category, category)
        paid = _money(amount)
        contributions = _money(amount * _PENSION_RATE)
        rows.append(
            f'            <СвВыплМК Месяц="{int(month)}" КодКатЛиц={_q(category)}'
            f' СумВыпл="{paid}" ВыплОПС="{paid}" НачислСВ="{contributions}"/>\n'
        )
    return (
        f"{text}        <СвВыплСВОПС>\n          <СвВыпл>\n{''.join(rows)}"
        "          </СвВыпл>\n        </СвВыплСВОПС>\n      </ПерсСвСтрахЛиц>\n"
    )


@dataclass(slots=True)
class _Totals:
    """Quarter totals over the paid (non-annulled) person blocks, for ОбязПлатСВ."""

    people: list[int] = field(default_factory=lambda: [0, 0, 0])
    pay: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 3)
    persons: int = 0

    def add(self, person: RsvPersonSpec) -> None:
        if person.annulled or not person.months:
            return
        self.persons += 1
        seen = [False, False, False]
        for month, _category, amount in person.months:
            if 1 <= month <= 3:
                seen[month - 1] = True
                self.pay[month - 1] += amount
        for i in range(3):
            self.people[i] += seen[i]


def _count_xml(tag: str, per_month: list[int], total: int, indent: str) -> str:
    return (
        f"{indent}<{tag} КолВсегоПер={_q(total)} Кол1Посл3М={_q(per_month[0])}"
        f" Кол2Посл3М={_q(per_month[1])} Кол3Посл3М={_q(per_month[2])}/>\n"
    )


def _sum_xml(tag: str, per_month: list[Decimal], quarters: int, indent: str) -> str:
    # The period total assumes a steady payroll over the year's earlier quarters.
    total = sum(per_month, Decimal(0)) * quarters
    return (
        f"{indent}<{tag} СумВсегоПер={_q(_money(total))} Сум1Посл3М={_q(_money(per_month[0]))}"
        f" Сум2Посл3М={_q(_money(per_month[1]))} Сум3Посл3М={_q(_money(per_month[2]))}/>\n"
    )


def _obligations_xml(spec: RsvReportSpec, totals: _Totals) -> str:
    quarters = {3: 1, 6: 2, 9: 3, 12: 4}[_PERIOD_END_MONTH[spec.period_code]]
    paid = totals.persons > 0
    due = [(p * _TOTAL_RATE).quantize(_CENT, rounding=ROUND_HALF_UP) for p in totals.pay]
    zero3 = [Decimal(0)] * 3
    out = [
        f"      <ОбязПлатСВ ТипПлат={_q(1 if paid else 2)} ОКТМО={_q(spec.oktmo)}>\n",
        f"        <УплПерОПС КБК={_q(SINGLE_TARIFF_KBK)}"
        f" СумСВУплПер={_q(_money(sum(due, Decimal(0))))}"
        f" СумСВУпл1М={_q(_money(due[0]))} СумСВУпл2М={_q(_money(due[1]))}"
        f" СумСВУпл3М={_q(_money(due[2]))}/>\n",
    ]
    if paid:
        i5 = " " * 12
        out.append('        <РасчСВ_ОПС_ОМС ТарифПлат="01">\n')
        out.append("          <РасчСВ_ОПСОМС>\n")
        for tag in ("КолСтрахЛицВс", "КолЛицНачСВВс", "НеПревБазОПС"):
            out.append(_count_xml(tag, totals.people, totals.persons, i5))
        out.append(_count_xml("ПревБазОПС", [0, 0, 0], 0, i5))
        out.append(_sum_xml("ВыплНачислФЛ", totals.pay, quarters, i5))
        out.append(_sum_xml("НеОбложенСВ", zero3, quarters, i5))
        out.append(_sum_xml("РасхПринВыч", zero3, quarters, i5))
        out.append(_sum_xml("БазНачислСВ", totals.pay, quarters, i5))
        out.append(_sum_xml("БазНеПревышОПС", totals.pay, quarters, i5))
        out.append(_sum_xml("БазПревышОПС", zero3, quarters, i5))
        out.append(_sum_xml("НачислСВ", due, quarters, i5))
        out.append(_sum_xml("НачислСВНеПрев", due, quarters, i5))
        out.append(_sum_xml("НачислСВПрев", zero3, quarters, i5))
        out.append("          </РасчСВ_ОПСОМС>\n")
        out.append("        </РасчСВ_ОПС_ОМС>\n")
    out.append("      </ОбязПлатСВ>\n")
    return "".join(out)


def _header_xml(spec: RsvReportSpec, totals: _Totals) -> str:
    place = "120" if spec.is_individual else "214"  # ИП at residence / organisation
    out = [
        f'<?xml version="1.0" encoding="{ENCODING}"?>\n',
        f"<Файл ИдФайл={_q(spec.file_id)} ВерсПрог={_q(PROGRAM_VERSION)}"
        f" ВерсФорм={_q(spec.form_version)}>\n",
        f"  <Документ КНД={_q(KND)} ДатаДок={_q(_ddmmyyyy(spec.effective_document_date))}"
        f" НомКорр={_q(spec.correction_no)} Период={_q(spec.period_code)}"
        f" ОтчетГод={_q(spec.year)} КодНО={_q(spec.office)} ПоМесту={_q(place)}>\n",
        f"    <СвНП СрЧисл={_q(totals.persons)}>\n",
    ]
    if spec.payer_person is not None:
        ogrnip = f" ОГРНИП={_q(spec.payer_ogrnip)}" if spec.payer_ogrnip else ""
        out.append(f"      <НПФЛ ИННФЛ={_q(spec.payer_inn)}{ogrnip}>\n")
        out.append(f"        <ФИО{_name_attrs(*spec.payer_person)}/>\n")
        out.append("      </НПФЛ>\n")
    else:
        out.append(
            f"      <НПЮЛ НаимОрг={_q(spec.payer_name)} ИННЮЛ={_q(spec.payer_inn)}"
            f" КПП={_q(spec.payer_kpp)}/>\n"
        )
    out.append("    </СвНП>\n")
    out.append('    <Подписант ПрПодп="1">\n')
    out.append(f"      <ФИО{_name_attrs(*spec.signer)}/>\n")
    out.append("    </Подписант>\n")
    out.append("    <РасчетСВ>\n")
    out.append(_obligations_xml(spec, totals))
    return "".join(out)


_FOOTER = "    </РасчетСВ>\n  </Документ>\n</Файл>\n"


def write_rsv(directory: Path, spec: RsvReportSpec) -> Path:
    """Write the report as ``<directory>/<ИдФайл>.xml`` in windows-1251; return the path.

    The totals in ``ОбязПлатСВ`` precede the person blocks they sum, so the blocks are written
    to a temporary file first: ``spec.persons`` is read once, and a lazy sequence such as
    :func:`synthetic_persons` keeps memory flat for very large files.
    """
    directory = Path(directory)
    categories, omit = _version_spelling(spec)
    totals = _Totals()
    path = directory / f"{spec.file_id}.xml"
    with tempfile.TemporaryFile(dir=directory) as blocks:
        buffer: list[str] = []
        for person in spec.persons:
            totals.add(person)
            buffer.append(_person_xml(person, categories, omit))
            if len(buffer) >= 1000:
                blocks.write("".join(buffer).encode(ENCODING))
                buffer.clear()
        blocks.write("".join(buffer).encode(ENCODING))
        blocks.seek(0)
        with path.open("wb") as fh:
            fh.write(_header_xml(spec, totals).encode(ENCODING))
            shutil.copyfileobj(blocks, fh, 1 << 20)
            fh.write(_FOOTER.encode(ENCODING))
    return path


def _version_spelling(spec: RsvReportSpec) -> tuple[dict[str, str] | None, bool]:
    """How the spec's version spells categories (None: as 5.08), and whether to omit ДатаРожд
    and СерНомДок; ValueError when omitting them would make the file invalid."""
    rules = VERSIONS.get(spec.form_version)
    omit = spec.omit_birth_and_document
    if omit and (
        rules is None or not {"ДатаРожд", "СерНомДок"} <= rules.optional_person_attributes
    ):
        raise ValueError(f"ДатаРожд and СерНомДок are required in form {spec.form_version}")
    if rules is None or not rules.derived:
        return None, omit
    return {new: rules.category_code(new) for new in RENAMED_IN_5_08.values()}, omit


# --- names and documents ----------------------------------------------------------------------


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_RU_SURNAMES = _names(
    "Иванов Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков Морозов Петров Волков "
    "Соловьёв Васильев Зайцев Павлов Семёнов Голубев Виноградов Богданов Воробьёв Фёдоров "
    "Михайлов Беляев Тарасов Белов Комаров Орлов Киселёв Макаров Андреев"
)
_RU_MALE = _names(
    "Александр Дмитрий Максим Сергей Андрей Алексей Артём Илья Кирилл Михаил Никита Евгений "
    "Владимир Павел Роман Игорь"
)
_RU_FEMALE = _names(
    "Анна Мария Елена Ольга Наталья Екатерина Татьяна Ирина Светлана Юлия Дарья Алина Ксения Марина"
)
_RU_FATHERS = _names(
    "Александр Дмитрий Сергей Андрей Алексей Михаил Николай Владимир Виктор Игорь Юрий Павел"
)

_UZ_SURNAMES = _names(
    "Каримов Рахимов Юсупов Абдуллаев Турсунов Исмоилов Холматов Эргашев Султанов Мирзаев "
    "Норбоев Тошматов Усмонов Собиров Алимов Хасанов"
)
_UZ_MALE = _names("Рустам Шерзод Бахтиёр Азиз Жасур Дилшод Фаррух Улугбек Отабек Санжар Бобур")
_UZ_FEMALE = _names("Дилноза Гулнора Нигора Шахноза Мадина Феруза Зарина Малика")

_TJ_SURNAMES = _names(
    "Рахмонов Шарипов Назаров Саидов Мирзоев Холов Давлатов Сафаров Одинаев Каримзода "
    "Рахимзода Шарифзода Исмоилзода"
)
_TJ_MALE = _names("Фирдавс Сухроб Мехроб Умед Фаридун Джамшед Бехруз Шохрух Исмоил Далер")
_TJ_FEMALE = _names("Мехрангез Зарина Нилуфар Парвина Тахмина Гулчехра")


def _feminine(surname: str) -> str:
    # Russian-style surnames take -а; Tajik -зода is invariant.
    return surname if surname.endswith("зода") else surname + "а"


def _patronymic(father: str, sex: int) -> str:
    if father.endswith("й"):
        stem = father[:-1] + ("евич" if sex == 1 else "евна")
    elif father.endswith("а"):
        stem = father[:-1] + ("ич" if sex == 1 else "ична")
    else:
        stem = father + ("ович" if sex == 1 else "овна")
    return stem


def _russian_name(rng: random.Random, sex: int) -> tuple[str, str, str | None]:
    surname = rng.choice(_RU_SURNAMES)
    first = rng.choice(_RU_MALE if sex == 1 else _RU_FEMALE)
    middle = _patronymic(rng.choice(_RU_FATHERS), sex)
    return (surname if sex == 1 else _feminine(surname)), first, middle


def _central_asian_name(rng: random.Random, sex: int, country: str) -> tuple[str, str, str | None]:
    if country == "860":
        surnames, males, females = _UZ_SURNAMES, _UZ_MALE, _UZ_FEMALE
    else:
        surnames, males, females = _TJ_SURNAMES, _TJ_MALE, _TJ_FEMALE
    surname = rng.choice(surnames)
    first = rng.choice(males if sex == 1 else females)
    father = rng.choice(males)
    style = rng.random()
    if country == "860" and style < 0.4:
        middle: str | None = f"{father} {'угли' if sex == 1 else 'кизи'}"  # Uzbek style
    elif style < 0.8:
        middle = _patronymic(father, sex)
    else:
        middle = None  # no patronymic in the passport
    return (surname if sex == 1 else _feminine(surname)), first, middle


def _russian_passport(rng: random.Random) -> str:
    return f"{rng.randint(1, 99):02d} {rng.randint(0, 24):02d} {rng.randint(0, 999999):06d}"


def _foreign_passport(rng: random.Random, country: str) -> str:
    if country == "860":
        return f"{rng.choice(['FA', 'AB', 'AD'])}{rng.randint(0, 9999999):07d}"
    return f"{rng.randint(400000000, 599999999)}"


# --- the scenario -----------------------------------------------------------------------------

RUSSIAN = "НР"
RESIDING = "ВЖНР"  # foreigners temporarily residing
STAYING = "ВПНР"  # foreigners temporarily staying: the contribution-years rule


@dataclass(slots=True)
class _Worker:
    person: RsvPersonSpec  # identity only; months filled per report
    category: str
    salary: Decimal
    employer: int | None
    mobile: bool  # moves between employers now and then


@dataclass(slots=True)
class _Employer:
    name: str
    inn: str
    kpp: str
    oktmo: str


_EMPLOYER_NAMES = (
    'ООО "Стройинвест"',
    'ООО "Северный склад"',
    'АО "Агрокомбинат Заречный"',
    'ООО "Клининг-Сервис Плюс"',
    'ООО "Городские дороги"',
    'ООО "Теплица № 7"',
    'ООО "Логистика & Ко"',
    'АО "Хлебозавод № 3"',
)


class _SnilsPool:
    """Distinct СНИЛС numbers drawn from one rng."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: dict[int, None] = {}

    def draw(self) -> str:
        while True:
            number = self._rng.randint(2_000_000, 999_999_999)
            if number not in self._used:
                self._used[number] = None
                return make_snils(number)


def _make_worker(
    rng: random.Random, snils: _SnilsPool, category: str, employer: int | None
) -> _Worker:
    sex = 1 if rng.random() < 0.7 else 2
    if category == RUSSIAN:
        country = "643"
        last, first, middle = _russian_name(rng, sex)
        kind, number = "21", _russian_passport(rng)
        birth = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
        inn = make_person_inn(f"77{rng.randint(1, 51):02d}{rng.randint(0, 999999):06d}")
    else:
        country = "860" if rng.random() < 0.6 else "762"
        last, first, middle = _central_asian_name(rng, sex, country)
        birth = date(rng.randint(1975, 2004), rng.randint(1, 12), rng.randint(1, 28))
        if category == RESIDING:
            kind, number = "15", f"{rng.randint(1, 99):02d} {rng.randint(0, 9999999):07d}"
        else:
            kind, number = "10", _foreign_passport(rng, country)
        inn = (
            make_person_inn(f"77{rng.randint(1, 51):02d}{rng.randint(0, 999999):06d}")
            if rng.random() < 0.3
            else None
        )
    person = RsvPersonSpec(
        snils=snils.draw(),
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=birth,
        citizenship=country,
        sex=sex,
        document_kind=kind,
        document_number=number,
        inn=inn,
    )
    salary = Decimal(rng.randint(35_000, 140_000))
    return _Worker(person, category, salary, employer, mobile=category == STAYING)


def _pay(rng: random.Random, worker: _Worker, month: int) -> MonthPayment:
    amount = (worker.salary * Decimal(rng.uniform(0.85, 1.2))).quantize(_CENT)
    return (month, worker.category, amount)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def random_rsv_reports(
    rng: random.Random,
    *,
    years: Sequence[int] = (2021, 2022, 2023, 2024),
    employers: int = 4,
    russians: int = 10,
    residing: int = 4,
    staying: int = 14,
    correction_share: float = 0.15,
) -> list[RsvReportSpec]:
    """Quarterly reports of several employers over ``years``, in filing order.

    Russians (НР) and temporarily residing foreigners (ВЖНР) mostly stay with one employer;
    temporarily staying foreigners (ВПНР, from Uzbekistan and Tajikistan) change employer now
    and then, sometimes in the middle of a quarter (both employers then report part of it),
    and sometimes leave for a quarter. Some reports are followed by a correction (НомКорр 1)
    that changes amounts, and some corrections annul a person block (ПрАннулир="1").
    """
    if not 1 <= employers <= len(_EMPLOYER_NAMES):
        raise ValueError(f"employers must be 1..{len(_EMPLOYER_NAMES)}")
    offices = rng.sample(range(7701, 7737), employers)
    firms = []
    for i, office in enumerate(offices):
        inn = make_org_inn(f"{office}{rng.randint(0, 99999):05d}")
        oktmo = f"45{rng.randint(300, 399)}000"
        firms.append(_Employer(_EMPLOYER_NAMES[i], inn, f"{office}01001", oktmo))

    snils = _SnilsPool(rng)
    workers = [
        _make_worker(rng, snils, category, rng.randrange(employers))
        for category, count in ((RUSSIAN, russians), (RESIDING, residing), (STAYING, staying))
        for _ in range(count)
    ]

    reports: list[RsvReportSpec] = []
    for year in years:
        for quarter in (1, 2, 3, 4):
            blocks: list[list[RsvPersonSpec]] = [[] for _ in firms]
            for worker in workers:
                for employer, months in _quarter_jobs(rng, worker, employers):
                    pay = tuple(_pay(rng, worker, m) for m in months)
                    blocks[employer].append(replace(worker.person, months=pay))
            for employer, firm in enumerate(firms):
                primary = RsvReportSpec(
                    payer_name=firm.name,
                    payer_inn=firm.inn,
                    payer_kpp=firm.kpp,
                    year=year,
                    period_code=QUARTER_PERIOD[quarter],
                    document_date=_filing_date(rng, year, quarter),
                    persons=tuple(blocks[employer]),
                    oktmo=firm.oktmo,
                    file_guid=_guid(rng),
                )
                reports.append(primary)
                if len(primary.persons) >= 2 and rng.random() < correction_share:
                    reports.append(_correction(rng, primary))
    return reports


def _quarter_jobs(
    rng: random.Random, worker: _Worker, employers: int
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Where the worker is paid this quarter: (employer, months) pairs."""
    if worker.employer is None:
        if rng.random() < 0.5:  # comes back
            worker.employer = rng.randrange(employers)
            start = rng.randint(1, 3)
            yield worker.employer, tuple(range(start, 4))
        return
    if worker.mobile and rng.random() < 0.1:  # leaves for a while
        last = rng.randint(0, 2)
        if last:
            yield worker.employer, tuple(range(1, last + 1))
        worker.employer = None
        return
    if worker.mobile and employers > 1 and rng.random() < 0.2:  # changes employer
        new = rng.choice([e for e in range(employers) if e != worker.employer])
        split = rng.randint(1, 3)
        yield worker.employer, tuple(range(1, split + 1))
        if split < 3:
            yield new, tuple(range(split + 1, 4))
            worker.employer = new
        else:
            worker.employer = new  # from the next quarter
        return
    yield worker.employer, (1, 2, 3)


def _filing_date(rng: random.Random, year: int, quarter: int) -> date:
    deadline = date(year + 1, 1, 25) if quarter == 4 else date(year, quarter * 3 + 1, 25)
    return deadline - timedelta(days=rng.randint(0, 12))


def _correction(rng: random.Random, primary: RsvReportSpec) -> RsvReportSpec:
    """Correction 1: one person's pay changed and, sometimes, one block annulled."""
    persons = list(primary.persons)
    changed = rng.randrange(len(persons))
    bonus = Decimal(rng.randint(1_000, 20_000))
    old = persons[changed]
    months = tuple((m, c, a + bonus if m == 3 else a) for m, c, a in old.months)
    persons[changed] = replace(old, months=months)
    if rng.random() < 0.5:
        annulled = rng.choice([i for i in range(len(persons)) if i != changed])
        persons[annulled] = replace(persons[annulled], annulled=True, months=())
    filed = primary.effective_document_date + timedelta(days=rng.randint(20, 90))
    return replace(
        primary,
        correction_no=1,
        document_date=filed,
        persons=tuple(persons),
        file_guid=_guid(rng),
    )


# --- large files ------------------------------------------------------------------------------


class _SyntheticPersons(Sequence[RsvPersonSpec]):
    """``count`` person blocks computed from their index: nothing is held in memory."""

    def __init__(self, count: int, seed: int, months: int) -> None:
        self._count = count
        self._seed = seed
        self._months = months

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not 0 <= index < self._count:
            raise IndexError(index)
        h = (index * 2_654_435_761 + self._seed * 40_503) % 4_294_967_291
        sex = 1 + (h & 1)
        staying = h % 5 == 0
        if staying:
            country = "860" if h % 3 else "762"
            if country == "860":
                surnames, names = _UZ_SURNAMES, _UZ_MALE if sex == 1 else _UZ_FEMALE
            else:
                surnames, names = _TJ_SURNAMES, _TJ_MALE if sex == 1 else _TJ_FEMALE
            middle = None
            category, kind, doc = STAYING, "10", f"FA{h % 10_000_000:07d}"
        else:
            country, surnames = "643", _RU_SURNAMES
            names = _RU_MALE if sex == 1 else _RU_FEMALE
            middle = _patronymic(_RU_FATHERS[h % len(_RU_FATHERS)], sex)
            category, kind, doc = RUSSIAN, "21", f"45 {h % 25:02d} {h % 1_000_000:06d}"
        surname = surnames[h % len(surnames)]
        if sex == 2:
            surname = _feminine(surname)
        amount = Decimal(30_000 + h % 90_000) + Decimal(h % 100) / 100
        return RsvPersonSpec(
            snils=make_snils(2_000_000 + index),
            last_name=surname,
            first_name=names[(h >> 3) % len(names)],
            middle_name=middle,
            birth_date=date(1960 + h % 44, 1 + h % 12, 1 + h % 28),
            citizenship=country,
            sex=sex,
            document_kind=kind,
            document_number=doc,
            months=tuple((m, category, amount) for m in range(1, self._months + 1)),
        )


def synthetic_persons(count: int, *, seed: int = 0, months: int = 3) -> Sequence[RsvPersonSpec]:
    """A lazy sequence of ``count`` distinct, valid person blocks (НР and ВПНР), for big files.

    Each block is paid in months 1..``months`` of the quarter.
    """
    if not 0 <= count <= 997_000_000 or not 1 <= months <= 3:
        raise ValueError("count or months out of range")
    return _SyntheticPersons(count, seed, months)
