"""Lexical values of the civil-registry formats (ROGDINF, ROGDZP), read without trusting them.

Shared by both parsers: XML Schema dates, years and integers in ASCII digits, one-line text, and
the F003 error that names an element and a line, never a value.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from pipelines.parse.xmlsafe import FileError
from pipelines.records import ABSENT, PartialDate

# xs:date, xs:gYearMonth and xs:gYear with an optional timezone ("2012-09-13+04:00"); xs:integer.
DATE = re.compile(r"\s*(-?\d{4,})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?\s*", re.ASCII)
YEAR_MONTH = re.compile(r"\s*(-?\d{4,})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?\s*", re.ASCII)
YEAR = re.compile(r"\s*(-?\d{4,})(?:Z|[+-]\d{2}:\d{2})?\s*", re.ASCII)
INTEGER = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)


def structure_error(elem: etree._Element, problem: str) -> FileError:
    """F003 for a record the parser cannot read. Names the element, never its value."""
    return FileError("F003", f"line {elem.sourceline}: {etree.QName(elem).localname}: {problem}")


def integer(text: str | None) -> int | None:
    if text is None or not INTEGER.fullmatch(text):
        return None
    return int(text)


def calendar_date(text: str | None) -> date | None:
    """An xs:date; None when missing, not a date, or outside Python's calendar (year > 9999)."""
    match = DATE.fullmatch(text) if text is not None else None
    if match is None:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def date_value(elem: etree._Element, text: str | None, what: str) -> PartialDate:
    """An xs:date as a complete PartialDate (an impossible one, 31 February, is kept for the
    rules to judge); a timezone suffix is ignored. F003 when it is not an xs:date at all."""
    match = DATE.fullmatch(text or "")
    if match is None:
        raise structure_error(elem, f"{what} is not a date")
    year, month, day = (int(g) for g in match.groups())
    return PartialDate(year, month, day)


def year_month_value(elem: etree._Element, text: str | None) -> PartialDate:
    """xs:gYearMonth: a date without its day."""
    match = YEAR_MONTH.fullmatch(text or "")
    if match is None:
        raise structure_error(elem, "not a year and month")
    return PartialDate(int(match.group(1)), int(match.group(2)), ABSENT)


def year_value(elem: etree._Element, text: str | None) -> PartialDate:
    """xs:gYear: a date with only its year."""
    match = YEAR.fullmatch(text or "")
    if match is None:
        raise structure_error(elem, "not a year")
    return PartialDate(int(match.group(1)), ABSENT, ABSENT)


def one_line(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


# The parts of a structured Russian address (КЛАДР), in the order a one-line address reads.
ADDRESS_PARTS = (
    "Индекс",
    "НаимРегион",
    "Район",
    "Город",
    "НаселПункт",
    "Улица",
    "Дом",
    "Корпус",
    "Кварт",
)
