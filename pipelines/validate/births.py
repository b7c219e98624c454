"""The birth-registration rules (ЕГР ЗАГС), the one place they live.

:func:`birth_frame` turns records into one row each of derived columns, :func:`birth_suite` holds
one expectation per rule over those columns, and :func:`validate_births` runs the suite over a
file in chunks. docs/rules.md is the analysts' view of the same rules.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pipelines.records import ABSENT, BirthRecord, FullName, Parent, PartialDate
from pipelines.validate.suite import build_suite, run_chunked

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite

KEY = "seq"
UNKNOWN_STATUS = "unknown"  # status_action of a КодСостСтат the mapping does not list
PROCEED_ACTIONS = ("enrol", "not_applicable")  # anything else is held for review (Z007)

COLUMNS = (
    KEY,
    "stillborn",  # ЖивМертв = 1
    "child_snils",  # as sent; None when not sent
    "birth_after_act",  # complete birth date later than the act date's last possible day
    "birth_date_complete",  # a complete, possible calendar date
    "mother_snils",
    "status_action",  # statuses[КодСостСтат], or UNKNOWN_STATUS
    "child_incomplete",  # sex, live-birth flag or first name absent or missing
    "birth_after_as_of",  # birth date (earliest day a partial one allows) after the processing day
    "birth_before_earliest",  # the birth year is before the earliest plausible year
    "parent_implausible",  # a parent born after the child, or younger than the minimum age
    "birth_order_out_of_bounds",  # the order in a multiple birth, or the number of children
)


@dataclass(frozen=True)
class Bounds:
    """The plausibility bounds (Settings.earliest_birth_year, min_parent_age, max_birth_order)."""

    earliest_birth_year: int = 1900
    min_parent_age: int = 12
    max_birth_order: int = 10

    @classmethod
    def of(cls, settings) -> Bounds:
        return cls(settings.earliest_birth_year, settings.min_parent_age, settings.max_birth_order)


def _calendar_date(value: object) -> date | None:
    """The date when complete and possible; None for partial, absent, missing or 31 February."""
    if isinstance(value, PartialDate):
        return value.to_date()
    if isinstance(value, date):
        return value
    return None


def _earliest_date(value: object) -> date | None:
    """The first day a (possibly partial) date can mean: an absent month or day counts as 1."""
    if isinstance(value, date):
        return value
    if not isinstance(value, PartialDate):
        return None
    month = value.month if isinstance(value.month, int) else 1
    day = value.day if isinstance(value.day, int) else 1
    for candidate_day in (day, 1):  # an impossible day still says which month
        try:
            return date(value.year, month, candidate_day)
        except ValueError:
            continue
    return None


def _latest_date(value: object) -> date | None:
    """The last day a (possibly partial) date can mean: an absent month counts as December, an
    absent day as the month's last day."""
    if isinstance(value, date):
        return value
    if not isinstance(value, PartialDate) or not 1 <= value.year <= 9999:
        return None
    month = value.month if isinstance(value.month, int) and 1 <= value.month <= 12 else 12
    last = calendar.monthrange(value.year, month)[1]
    day = value.day if isinstance(value.day, int) and 1 <= value.day <= last else last
    return date(value.year, month, day)


def _text(value: object) -> str | None:
    """A sent, non-blank text; None for missing, ABSENT or blank."""
    return value if isinstance(value, str) and value.strip() else None


def _missing(value: object) -> bool:
    return value is None or value is ABSENT


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def _parent_implausible(parent: object, child_birth: date | None, bounds: Bounds) -> bool:
    """A parent born on or after the child's birth, or younger then than the minimum age."""
    if not isinstance(parent, Parent) or child_birth is None:
        return False
    born = _calendar_date(parent.birth_date)
    if born is None:
        return False
    return born >= child_birth or _years_between(born, child_birth) < bounds.min_parent_age


def _year(value: object) -> int | None:
    if isinstance(value, (date, PartialDate)):
        return value.year
    return None


def _row(
    record: BirthRecord, as_of: date, statuses: dict[str, str], bounds: Bounds = Bounds()
) -> tuple[Any, ...]:
    child = record.child
    birth = _calendar_date(child.birth_date)
    act = _latest_date(record.act_date)  # a partial act date: compared with its last day
    earliest = _earliest_date(child.birth_date)
    name = child.name if isinstance(child.name, FullName) else FullName()
    mother = record.mother if isinstance(record.mother, Parent) else None
    return (
        record.seq,
        child.stillborn is True,
        _text(child.snils),
        birth is not None and act is not None and birth > act,
        birth is not None,
        _text(mother.snils) if mother else None,
        statuses.get(record.status_code, UNKNOWN_STATUS),
        _missing(child.sex) or _missing(child.stillborn) or _text(name.first_name) is None,
        earliest is not None and earliest > as_of,
        (year := _year(child.birth_date)) is not None and year < bounds.earliest_birth_year,
        _parent_implausible(record.mother, birth, bounds)
        or _parent_implausible(record.father, birth, bounds),
        any(
            isinstance(n, int) and not 1 <= n <= bounds.max_birth_order
            for n in (record.birth_order, record.children_in_birth)
        ),
    )


def birth_frame(
    records: Iterable[BirthRecord],
    as_of: date,
    statuses: dict[str, str],
    bounds: Bounds = Bounds(),
) -> pd.DataFrame:
    """One row per record: ``seq`` and the derived columns the rules read (see COLUMNS).

    Only the two СНИЛС columns carry personal values; the frame lives for one validation.
    """
    import pandas as pd

    rows = [_row(record, as_of, statuses, bounds) for record in records]
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


def birth_suite() -> ExpectationSuite:
    """One expectation per birth rule, each naming its reason code in ``meta["code"]``."""
    import great_expectations.expectations as gxe

    from pipelines.validate.expectations import ExpectColumnValuesToBeValidSnils

    def never(column: str, code: str) -> gxe.ExpectColumnValuesToBeInSet:
        return gxe.ExpectColumnValuesToBeInSet(
            column=column, value_set=[False], meta={"code": code}
        )

    return build_suite(
        "births",
        [
            never("stillborn", "Z001"),
            ExpectColumnValuesToBeValidSnils(column="child_snils", meta={"code": "Z002"}),
            never("birth_after_act", "Z003"),
            gxe.ExpectColumnValuesToBeInSet(
                column="birth_date_complete", value_set=[True], meta={"code": "Z004"}
            ),
            ExpectColumnValuesToBeValidSnils(column="mother_snils", meta={"code": "Z006"}),
            gxe.ExpectColumnValuesToBeInSet(
                column="status_action", value_set=list(PROCEED_ACTIONS), meta={"code": "Z007"}
            ),
            gxe.ExpectColumnValuesToNotBeInSet(
                column="status_action", value_set=["not_applicable"], meta={"code": "Z008"}
            ),
            never("child_incomplete", "Z009"),
            never("birth_after_as_of", "Z010"),
            never("birth_before_earliest", "Z014"),
            never("parent_implausible", "Z015"),
            never("birth_order_out_of_bounds", "Z016"),
        ],
    )


def validate_births(
    records: Iterable[BirthRecord],
    as_of: date,
    statuses: dict[str, str],
    chunk_size: int | None = 50_000,
    bounds: Bounds = Bounds(),
) -> dict[int, list[str]]:
    """seq → reason codes for every record that breaks at least one birth rule.

    ``as_of`` is the processing date (Z010); ``statuses`` is Settings.zags_statuses; ``bounds``
    the plausibility bounds (Z014–Z016). Records are read ``chunk_size`` at a time (None: all at
    once).
    """
    return run_chunked(
        records,
        lambda chunk: birth_frame(chunk, as_of, statuses, bounds),
        birth_suite,
        KEY,
        chunk_size,
    )
