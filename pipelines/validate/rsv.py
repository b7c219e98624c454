"""The contribution-report rules (РСВ): the payer in the header, and each insured person.

Built like the birth rules: derived columns in a frame, one expectation per check, a reason code
in each expectation's meta. docs/rules.md is the analysts' view.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.records import InsuredPerson, RsvHeader
from pipelines.validate import docs
from pipelines.validate.suite import build_suite, run_chunked, run_suite, run_suite_parts

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite

KEY = "seq"
HEADER_KEY = "header"

HEADER_COLUMNS = (
    HEADER_KEY,
    "payer_inn",
    "payer_inn_length_ok",  # 12 digits for an individual (НПФЛ), 10 for an organisation
    "organisation_kpp",  # КПП of an organisation ("" when missing); None for an individual
)
PERSON_COLUMNS = (KEY, "snils", "inn")


def _text(value: object) -> str | None:
    """A sent, non-blank text; None for missing or blank."""
    return value if isinstance(value, str) and value.strip() else None


def payer_is_individual(header: RsvHeader) -> bool:
    """НПФЛ: the payer has no КПП and either an ОГРНИП or a 12-digit ИНН; else an organisation."""
    return header.payer_kpp is None and (
        header.payer_ogrnip is not None or len(header.payer_inn or "") == 12
    )


def header_frame(header: RsvHeader) -> pd.DataFrame:
    """One row of derived payer columns (see HEADER_COLUMNS)."""
    import pandas as pd

    individual = payer_is_individual(header)
    inn = header.payer_inn or ""  # a missing ИНН is a wrong one, not one to skip
    row = (
        0,
        inn,
        len(inn) == (12 if individual else 10),
        None if individual else (header.payer_kpp or ""),
    )
    return pd.DataFrame.from_records([row], columns=list(HEADER_COLUMNS))


def rsv_header_suite() -> ExpectationSuite:
    import great_expectations.expectations as gxe

    from pipelines.validate.expectations import (
        ExpectColumnValuesToBeValidInn,
        ExpectColumnValuesToBeValidKpp,
    )

    return build_suite(
        "rsv_header",
        [
            ExpectColumnValuesToBeValidInn(column="payer_inn", meta={"code": "F010"}),
            gxe.ExpectColumnValuesToBeInSet(
                column="payer_inn_length_ok", value_set=[True], meta={"code": "F010"}
            ),
            ExpectColumnValuesToBeValidKpp(column="organisation_kpp", meta={"code": "F011"}),
        ],
    )


def validate_rsv_header(header: RsvHeader) -> list[str]:
    """Reason codes for the report's payer: F010 (ИНН), F011 (КПП of an organisation)."""
    return run_suite(header_frame(header), rsv_header_suite(), HEADER_KEY).get(0, [])


def person_frame(persons: Iterable[InsuredPerson]) -> pd.DataFrame:
    """One row per person: ``seq``, СНИЛС and ИНН as sent (blank counts as missing)."""
    import pandas as pd

    rows = [(p.seq, _text(p.snils), _text(p.inn)) for p in persons]
    return pd.DataFrame.from_records(rows, columns=list(PERSON_COLUMNS))


def rsv_person_suite() -> ExpectationSuite:
    import great_expectations.expectations as gxe

    from pipelines.validate.expectations import (
        ExpectColumnValuesToBeValidInn,
        ExpectColumnValuesToBeValidSnils,
    )

    return build_suite(
        "rsv_persons",
        [
            ExpectColumnValuesToBeValidSnils(column="snils", meta={"code": "R001"}),
            gxe.ExpectColumnValuesToNotBeNull(column="snils", meta={"code": "R002"}),
            ExpectColumnValuesToBeValidInn(column="inn", meta={"code": "R006"}),
            # a person's ИНН has 12 digits; a valid 10-digit one belongs to an organisation
            gxe.ExpectColumnValueLengthsToEqual(column="inn", value=12, meta={"code": "R006"}),
        ],
    )


def validate_rsv_persons(
    persons: Iterable[InsuredPerson], chunk_size: int | None = 50_000
) -> dict[int, list[str]]:
    """seq → reason codes for every person block that breaks at least one rule."""
    return run_chunked(persons, person_frame, rsv_person_suite, KEY, chunk_size)


PART = "part"


@dataclass(frozen=True)
class FileVerdict:
    """What the rules said of one report when several were validated together: the payer's
    codes, each failing block's codes, and the file's share of each validation for its Data
    Docs page (None where the file had nothing to validate)."""

    header_codes: list[str]
    header_docs: docs.Counted | None
    person_codes: dict[int, list[str]]
    person_docs: docs.Counted | None


def validate_rsv_files(
    files: dict[Hashable, tuple[RsvHeader, list[InsuredPerson]]],
) -> dict[Hashable, FileVerdict] | None:
    """The header and person rules for several reports with two GE validations in all, not two
    per file: each file's verdict is what :func:`validate_rsv_header` and
    :func:`validate_rsv_persons` give it alone. None when the results cannot be split by file."""
    import pandas as pd

    if not files:
        return {}
    headers = pd.concat(
        [header_frame(header).assign(**{PART: name}) for name, (header, _) in files.items()],
        ignore_index=True,
    )
    people = [(name, p) for name, (_, persons) in files.items() for p in persons]
    persons = person_frame(p for _, p in people)
    persons[PART] = [name for name, _ in people]
    by_header = run_suite_parts(headers, rsv_header_suite(), HEADER_KEY, PART)
    by_person = run_suite_parts(persons, rsv_person_suite(), KEY, PART) if people else {}
    if by_header is None or by_person is None:
        return None
    verdicts = {}
    for name in files:
        header_codes, header_docs = by_header[name]
        person_codes, person_docs = by_person.get(name, ({}, None))
        verdicts[name] = FileVerdict(
            header_codes.get(0, []), header_docs, person_codes, person_docs
        )
    return verdicts
