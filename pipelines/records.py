"""Plain values that flow between the stages: what the parsers produce and the rules consume.

A field of a government format is often a choice between a value and an explicit "absent" flag
(``ПрФамилия=1`` and the like). That is not the same as a field that is simply missing, so it is
modelled as its own value, :data:`ABSENT`, never flattened to ``None``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeAlias


class Absent(enum.Enum):
    """The sender stated explicitly that a value does not exist (a ``Пр…`` flag set to 1)."""

    FLAGGED = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent.FLAGGED

Text: TypeAlias = str | Absent | None
"""A text field: a value, explicitly absent, or not sent at all (``None``)."""


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date as the civil registry states it: the day or the month may be flagged absent.

    ``ДатаРождКаленд`` becomes a complete PartialDate; ``ДатаРождДок`` with ``ПрДень``/``ПрМесяц``
    becomes one with ``day``/``month`` set to :data:`ABSENT`.
    """

    year: int
    month: int | Absent
    day: int | Absent

    @classmethod
    def of(cls, value: date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @property
    def is_complete(self) -> bool:
        return isinstance(self.month, int) and isinstance(self.day, int)

    def to_date(self) -> date | None:
        """The calendar date, or None when the date is partial or impossible (31 February)."""
        if not self.is_complete:
            return None
        try:
            return date(self.year, self.month, self.day)  # type: ignore[arg-type]
        except ValueError:
            return None

    def __str__(self) -> str:
        month = f"{self.month:02d}" if isinstance(self.month, int) else "--"
        day = f"{self.day:02d}" if isinstance(self.day, int) else "--"
        return f"{self.year:04d}-{month}-{day}"


DateValue: TypeAlias = "PartialDate | Absent | None"


@dataclass(frozen=True, slots=True)
class FullName:
    last_name: Text = None
    first_name: Text = None
    middle_name: Text = None


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    """An identity document (``УдЛичнФЛ``): kind code from СПДУЛ, series and number."""

    kind_code: str | None = None
    series: Text = None
    number: Text = None
    issue_date: DateValue = None
    issued_by: Text = None


@dataclass(frozen=True, slots=True)
class Child:
    """``СведРодившемся``: the child the birth act record is about."""

    snils: str | None = None
    stillborn: bool | Absent | None = None  # ЖивМертв: 0 live-born -> False, 1 stillborn -> True
    sex: int | Absent | None = None  # 1 male, 2 female
    name: FullName = field(default_factory=FullName)
    birth_date: DateValue = None
    birth_place: Text = None


@dataclass(frozen=True, slots=True)
class Parent:
    """``СведМать`` / ``СведОтец``."""

    snils: str | None = None
    citizenship: str | Absent | None = None  # ОКСМ code, "643" = Russia
    citizenship_text: str | None = None
    name: FullName = field(default_factory=FullName)
    birth_date: DateValue = None
    document: IdentityDocument | Absent | None = None
    residence: Text = None  # the address flattened to one line, for the register


@dataclass(frozen=True, slots=True)
class BirthCertificate:
    series: Text = None
    number: Text = None
    issue_date: DateValue = None


@dataclass(frozen=True, slots=True)
class BirthRecord:
    """One ``СведРегРожд``: a birth act record of ЕГР ЗАГС, in one version."""

    seq: int  # 1-based position in the file: the receipt's fallback key
    act_number: str  # НомерЗаписЕГР, 21 chars, the natural key
    version: str  # НомерВерс, as sent (1-3 chars)
    version_date: date | None  # ДатаВерс
    status_code: str  # КодСостСтат, 4 chars (СОСТАГС)
    register_section: int  # РазделЕГР: 1, or 2 for an act registered abroad
    act_date: DateValue  # ДатаЗапис, or ДатаЗаписДок when partial
    zags_code: str | None = None
    zags_name: str | None = None
    certificates: tuple[BirthCertificate, ...] = ()
    child: Child = field(default_factory=Child)
    mother: Parent | Absent | None = None
    father: Parent | Absent | None = None
    children_in_birth: int | None = None  # СведРоды/ЧислоРодДетей
    birth_order: int | Absent | None = None  # СведРоды/Счет
    response_id: str | None = None  # ИдДок of the enclosing СведОтветАГС


@dataclass(frozen=True, slots=True)
class ZagsFileHeader:
    request_id: str | None  # ИдЗапрос
    info_date: date | None  # ДатаСвед
    doc_count: int | None  # КолДок


@dataclass(frozen=True, slots=True)
class Payment:
    """One ``СвВыплМК``: what was paid to the person in one month of the quarter."""

    month: int  # 1..3 within the quarter
    insured_category: str  # КодКатЛиц
    amount: Decimal  # СумВыпл
    base: Decimal | None = None  # ВыплОПС
    contributions: Decimal | None = None  # НачислСВ


@dataclass(frozen=True, slots=True)
class InsuredPerson:
    """One ``ПерсСвСтрахЛиц``: one insured person in an employer's report."""

    seq: int
    snils: str | None
    inn: str | None
    birth_date: date | None
    citizenship: str | None  # ОКСМ
    sex: int | None
    document_kind: str | None
    document_number: str | None
    name: FullName
    payments: tuple[Payment, ...] = ()
    annulled: bool = False  # ПрАннулир="1"


@dataclass(frozen=True, slots=True)
class RsvHeader:
    """The report as a whole: who filed it, for which period, which correction."""

    file_id: str  # Файл/@ИдФайл
    form_version: str
    document_date: date  # ДатаДок
    correction_no: int  # НомКорр
    period_code: str  # Период
    year: int  # ОтчетГод
    tax_office: str | None
    payer_inn: str
    payer_kpp: str | None  # None for an individual entrepreneur
    payer_name: str | None
    payer_ogrnip: str | None = None

    @property
    def quarter(self) -> int:
        """The quarter the person data cover: the last quarter of the period."""
        return PERIOD_QUARTER[self.period_code]


PERIOD_QUARTER: dict[str, int] = {
    "21": 1,
    "51": 1,
    "31": 2,
    "52": 2,
    "33": 3,
    "53": 3,
    "34": 4,
    "90": 4,
    "83": 1,
    "84": 2,
    "85": 3,
    "86": 4,
}
"""Период → the quarter its person data cover (DOMAIN.md §4.2): 21/31/33/34 are Q1, half year,
nine months and year; 51–53 and 90 the same on reorganisation, 83–86 the same on deregistration."""
