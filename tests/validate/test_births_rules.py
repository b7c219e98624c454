"""Birth rules (pipelines/validate/births.py): each rule gives exactly its code and outcome.

All cases go through one validation run (GE is slow to start), then each test reads its row.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipelines.codes import CATALOGUE, Outcome, decide
from pipelines.config import DEFAULT_ZAGS_STATUSES
from pipelines.records import ABSENT, BirthRecord, Child, FullName, Parent, PartialDate

AS_OF = date(2024, 3, 1)
STATUSES = {**DEFAULT_ZAGS_STATUSES, "0005": "review"}
ACT_DATE = PartialDate.of(date(2024, 1, 20))
BIRTH_DATE = PartialDate.of(date(2024, 1, 10))

A, R, V, N = Outcome.ACCEPTED, Outcome.REJECTED, Outcome.REVIEW, Outcome.NOT_APPLICABLE


def child(**changes: object) -> Child:
    base = Child(
        snils=None,
        stillborn=False,
        sex=2,
        name=FullName("Иванова", "Мария", "Ивановна"),
        birth_date=BIRTH_DATE,
        birth_place="г. Москва",
    )
    return dataclasses.replace(base, **changes)


def record(seq: int = 0, **changes: object) -> BirthRecord:
    base = BirthRecord(
        seq=seq,
        act_number="120249770000100010001",
        version="1",
        version_date=date(2024, 1, 20),
        status_code="0001",
        register_section=1,
        act_date=ACT_DATE,
        zags_code="R7700001",
        zags_name="Орган ЗАГС",
        child=child(),
        mother=Parent(snils="11223344595", citizenship="643", name=FullName("Иванова", "Анна")),
        father=ABSENT,
    )
    return dataclasses.replace(base, **changes)


# name -> (record, expected codes, expected outcome)
CASES: dict[str, tuple[BirthRecord, list[str], Outcome]] = {
    "clean": (record(), [], A),
    "clean_no_parents": (record(mother=ABSENT, father=None), [], A),
    # Z001
    "stillborn": (record(child=child(stillborn=True)), ["Z001"], N),
    # Z002
    "child_snils_valid": (record(child=child(snils="19702774500")), [], A),
    "child_snils_printed_valid": (record(child=child(snils="148-481-255 85")), [], A),
    "child_snils_unchecked_range": (record(child=child(snils="00100199800")), [], A),
    "child_snils_wrong_check": (record(child=child(snils="11223344590")), ["Z002"], R),
    "child_snils_malformed": (record(child=child(snils="1122334459")), ["Z002"], R),
    # Z003
    "birth_after_act": (
        record(child=child(birth_date=PartialDate.of(date(2024, 1, 21)))),
        ["Z003"],
        R,
    ),
    "birth_on_act_day": (record(child=child(birth_date=ACT_DATE)), [], A),
    "birth_within_partial_act_month": (
        record(
            act_date=PartialDate(2024, 1, ABSENT),
            child=child(birth_date=PartialDate.of(date(2024, 1, 25))),
        ),
        [],
        A,
    ),
    "birth_after_partial_act_month": (
        record(
            act_date=PartialDate(2024, 1, ABSENT),
            child=child(birth_date=PartialDate.of(date(2024, 2, 1))),
        ),
        ["Z003"],
        R,
    ),
    "birth_after_partial_act_year": (
        record(
            act_date=PartialDate(2023, ABSENT, ABSENT),
            child=child(birth_date=PartialDate.of(date(2024, 1, 2))),
        ),
        ["Z003"],
        R,
    ),
    "birth_after_act_no_act_date": (record(act_date=None), [], A),
    # Z004
    "birth_day_absent": (record(child=child(birth_date=PartialDate(2024, 1, ABSENT))), ["Z004"], V),
    "birth_month_absent": (
        record(child=child(birth_date=PartialDate(2024, ABSENT, ABSENT))),
        ["Z004"],
        V,
    ),
    "birth_date_flagged_absent": (record(child=child(birth_date=ABSENT)), ["Z004"], V),
    "birth_date_missing": (record(child=child(birth_date=None)), ["Z004"], V),
    "birth_date_impossible": (
        record(child=child(birth_date=PartialDate(2024, 2, 30))),
        ["Z004"],
        V,
    ),
    # Z006: a warning, the outcome stays
    "mother_snils_wrong_check": (
        record(mother=Parent(snils="11223344590", name=FullName("Иванова"))),
        ["Z006"],
        A,
    ),
    "mother_snils_printed_wrong": (
        record(mother=Parent(snils="010-242-368 00")),
        ["Z006"],
        A,
    ),
    "mother_without_snils": (record(mother=Parent(snils=None)), [], A),
    # Z007, Z008
    "status_unknown": (record(status_code="9999"), ["Z007"], V),
    "status_mapped_to_review": (record(status_code="0005"), ["Z007"], V),
    "status_corrected_in_force": (record(status_code="0002"), [], A),
    "status_annulled": (record(status_code="0003"), ["Z008"], N),
    # Z009
    "sex_absent": (record(child=child(sex=ABSENT)), ["Z009"], V),
    "sex_missing": (record(child=child(sex=None)), ["Z009"], V),
    "live_birth_flag_absent": (record(child=child(stillborn=ABSENT)), ["Z009"], V),
    "live_birth_flag_missing": (record(child=child(stillborn=None)), ["Z009"], V),
    "first_name_absent": (record(child=child(name=FullName("Иванова", ABSENT))), ["Z009"], V),
    "first_name_missing": (record(child=child(name=FullName("Иванова"))), ["Z009"], V),
    "first_name_blank": (record(child=child(name=FullName("Иванова", "  "))), ["Z009"], V),
    "last_name_absent_is_fine": (record(child=child(name=FullName(ABSENT, "Мария"))), [], A),
    # Z010
    "birth_after_as_of": (
        record(
            act_date=PartialDate.of(date(2024, 3, 5)),
            child=child(birth_date=PartialDate.of(date(2024, 3, 2))),
        ),
        ["Z010"],
        R,
    ),
    "birth_on_as_of": (
        record(act_date=PartialDate.of(AS_OF), child=child(birth_date=PartialDate.of(AS_OF))),
        [],
        A,
    ),
    "partial_birth_date_certainly_after_as_of": (
        record(child=child(birth_date=PartialDate(2025, ABSENT, ABSENT))),
        ["Z004", "Z010"],
        R,
    ),
    "partial_birth_date_maybe_after_as_of": (
        record(child=child(birth_date=PartialDate(2024, 3, ABSENT))),
        ["Z004"],
        V,
    ),
    # Z014: implausibly early birth dates
    "born_1800": (record(child=child(birth_date=PartialDate(1800, 1, 1))), ["Z014"], V),
    "born_year_1": (record(child=child(birth_date=PartialDate(1, 1, 1))), ["Z014"], V),
    "born_1800_month_absent": (
        record(child=child(birth_date=PartialDate(1800, ABSENT, ABSENT))),
        ["Z004", "Z014"],
        V,
    ),
    "born_1900_is_fine": (record(child=child(birth_date=PartialDate(1900, 1, 1))), [], A),
    # Z015: implausible parents
    "mother_born_after_child": (
        record(mother=Parent(name=FullName("Иванова"), birth_date=PartialDate(2024, 2, 1))),
        ["Z015"],
        V,
    ),
    "mother_born_on_the_childs_birthday": (
        record(mother=Parent(name=FullName("Иванова"), birth_date=BIRTH_DATE)),
        ["Z015"],
        V,
    ),
    "mother_aged_four": (
        record(mother=Parent(name=FullName("Иванова"), birth_date=PartialDate(2020, 1, 1))),
        ["Z015"],
        V,
    ),
    "mother_just_twelve": (
        record(mother=Parent(name=FullName("Иванова"), birth_date=PartialDate(2012, 1, 10))),
        [],
        A,
    ),
    "father_a_day_short_of_twelve": (
        record(father=Parent(name=FullName("Иванов"), birth_date=PartialDate(2012, 1, 11))),
        ["Z015"],
        V,
    ),
    "parent_partial_birth_date_not_judged": (
        record(mother=Parent(name=FullName("Иванова"), birth_date=PartialDate(2030, ABSENT, 1))),
        [],
        A,
    ),
    # Z016: implausible multiple births
    "birth_order_a_million": (record(birth_order=1_000_000), ["Z016"], V),
    "birth_order_zero": (record(birth_order=0), ["Z016"], V),
    "children_in_birth_eleven": (record(children_in_birth=11), ["Z016"], V),
    "twins_second_is_fine": (record(birth_order=2, children_in_birth=2), [], A),
    # several rules at once: decide() applies the precedence
    "stillborn_with_wrong_snils": (
        record(child=child(stillborn=True, snils="11223344590")),
        ["Z001", "Z002"],
        N,
    ),
    "wrong_snils_and_partial_date": (
        record(child=child(snils="11223344590", birth_date=PartialDate(2024, 1, ABSENT))),
        ["Z002", "Z004"],
        R,
    ),
    "mother_wrong_and_status_unknown": (
        record(status_code="XXXX", mother=Parent(snils="11223344590")),
        ["Z006", "Z007"],
        V,
    ),
    "annulled_and_incomplete": (
        record(status_code="0004", child=child(sex=None)),
        ["Z008", "Z009"],
        N,
    ),
}

NAMES = list(CASES)
SEQ = {name: i + 1 for i, name in enumerate(NAMES)}


def case_records() -> list[BirthRecord]:
    return [dataclasses.replace(CASES[name][0], seq=SEQ[name]) for name in NAMES]


@pytest.fixture(scope="module")
def results() -> dict[int, list[str]]:
    from pipelines.validate.births import validate_births

    return validate_births(case_records(), AS_OF, STATUSES)


@pytest.mark.parametrize("name", NAMES)
def test_rule(results: dict[int, list[str]], name: str) -> None:
    _, codes, outcome = CASES[name]
    assert results.get(SEQ[name], []) == codes
    assert decide(codes) is outcome


def test_only_records_with_codes_appear(results: dict[int, list[str]]) -> None:
    assert all(results.values())
    assert set(results) == {SEQ[n] for n in NAMES if CASES[n][1]}


def test_suite_has_one_rule_per_code() -> None:
    from pipelines.validate.births import birth_suite
    from pipelines.validate.suite import suite_codes

    suite = birth_suite()
    codes = suite_codes(suite)
    assert codes == [
        "Z001", "Z002", "Z003", "Z004", "Z006", "Z007", "Z008", "Z009", "Z010",
        "Z014", "Z015", "Z016",
    ]  # fmt: skip
    assert len(suite.expectations) == len(codes)
    assert all(code in CATALOGUE for code in codes)


def test_every_rule_is_in_docs() -> None:
    from pipelines.validate.births import birth_suite
    from pipelines.validate.suite import suite_codes

    rules_md = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in suite_codes(birth_suite()):
        assert f"| {code} |" in rules_md


def test_chunks_give_the_same_result(results: dict[int, list[str]]) -> None:
    from pipelines.validate.births import validate_births

    assert validate_births(case_records(), AS_OF, STATUSES, chunk_size=7) == results
    assert validate_births(case_records(), AS_OF, STATUSES, chunk_size=None) == results


def test_large_file_in_chunks_matches_one_pass() -> None:
    from pipelines.validate.births import validate_births

    cases = case_records()
    n = 120_000

    def generated():  # a generator: the validator must not need a list
        for i in range(n):
            yield dataclasses.replace(cases[i % len(cases)], seq=i + 1)

    chunked = validate_births(generated(), AS_OF, STATUSES, chunk_size=50_000)
    whole = validate_births(generated(), AS_OF, STATUSES, chunk_size=None)
    assert chunked == whole
    expected = {
        i + 1: CASES[NAMES[i % len(NAMES)]][1] for i in range(n) if CASES[NAMES[i % len(NAMES)]][1]
    }
    assert chunked == expected


def test_empty_input_gives_nothing() -> None:
    from pipelines.validate.births import validate_births

    assert validate_births([], AS_OF, STATUSES) == {}
    assert validate_births(iter(()), AS_OF, STATUSES, chunk_size=None) == {}


def test_bad_chunk_size_is_refused() -> None:
    from pipelines.validate.births import validate_births

    with pytest.raises(ValueError):
        validate_births(case_records(), AS_OF, STATUSES, chunk_size=0)


def test_validation_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    from pipelines.validate.births import validate_births

    validate_births(case_records(), AS_OF, STATUSES)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_frame_has_one_row_per_record_keyed_by_seq() -> None:
    from pipelines.validate.births import COLUMNS, birth_frame

    frame = birth_frame(case_records(), AS_OF, STATUSES)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["seq"].tolist() == list(range(1, len(NAMES) + 1))


# --- the shared machinery (pipelines/validate/suite.py) ---------------------------------------


def test_rule_that_cannot_run_raises_instead_of_passing() -> None:
    import great_expectations.expectations as gxe
    import pandas as pd

    from pipelines.validate.suite import RuleError, build_suite, run_suite

    suite = build_suite(
        "broken",
        [gxe.ExpectColumnValuesToNotBeNull(column="no_such_column", meta={"code": "Z009"})],
    )
    with pytest.raises(RuleError, match="Z009"):
        run_suite(pd.DataFrame({"seq": [1, 2]}), suite, "seq")


def test_expectation_without_code_is_refused() -> None:
    import great_expectations.expectations as gxe

    from pipelines.validate.suite import build_suite

    with pytest.raises(ValueError):
        build_suite("nocode", [gxe.ExpectColumnValuesToNotBeNull(column="seq")])
    with pytest.raises(ValueError):
        build_suite(
            "badcode", [gxe.ExpectColumnValuesToNotBeNull(column="seq", meta={"code": "Q999"})]
        )


def test_run_suite_reports_the_key_column_not_the_index() -> None:
    import pandas as pd

    from pipelines.validate.expectations import ExpectColumnValuesToBeValidSnils
    from pipelines.validate.suite import build_suite, run_suite

    suite = build_suite(
        "snils", [ExpectColumnValuesToBeValidSnils(column="snils", meta={"code": "R001"})]
    )
    frame = pd.DataFrame(
        {"seq": [30, 10, 20], "snils": ["11223344590", None, "11223344595"]},
        index=[7, 8, 9],  # a non-positional index must not confuse the keys
    )
    assert run_suite(frame, suite, "seq") == {30: ["R001"]}


def test_importing_the_rules_does_not_import_great_expectations() -> None:
    code = (
        "import sys, pipelines.validate.births, pipelines.validate.rsv, pipelines.validate.suite;"
        "sys.exit('great_expectations' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_the_validation_engine_logs_nothing_below_warnings_from_its_import_on() -> None:
    """Great Expectations logs a line per decorated function while it is imported: a task log
    would be mostly that."""
    code = (
        "import logging; logging.basicConfig(level=logging.DEBUG);"
        "from pipelines.validate import suite; suite._get_engine()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert [line for line in done.stderr.splitlines() if "great_expectations" in line] == []
