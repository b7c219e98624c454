"""Contribution-report rules (pipelines/validate/rsv.py): payer header and insured persons."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.codes import CATALOGUE, Outcome, decide
from pipelines.records import FullName, InsuredPerson, Payment, RsvHeader

A, R = Outcome.ACCEPTED, Outcome.REJECTED

ORGANISATION = RsvHeader(
    file_id="NO_RASCHSV_7736_7736_7707083893773601001_20240415_A1B2C3",
    form_version="5.08",
    document_date=date(2024, 4, 15),
    correction_no=0,
    period_code="21",
    year=2024,
    tax_office="7736",
    payer_inn="7707083893",
    payer_kpp="773601001",
    payer_name="ПАО Организация",
)
INDIVIDUAL = dataclasses.replace(
    ORGANISATION,
    payer_inn="500100732259",
    payer_kpp=None,
    payer_name=None,
    payer_ogrnip="315850060100090",
)

HEADER_CASES: dict[str, tuple[RsvHeader, list[str]]] = {
    "organisation_clean": (ORGANISATION, []),
    "organisation_letters_in_kpp": (dataclasses.replace(ORGANISATION, payer_kpp="7736AB001"), []),
    "organisation_inn_wrong_check": (
        dataclasses.replace(ORGANISATION, payer_inn="7701234567"),  # the public zero report
        ["F010"],
    ),
    "organisation_inn_of_a_person": (
        dataclasses.replace(ORGANISATION, payer_inn="500100732259"),
        ["F010"],
    ),
    "organisation_inn_empty": (dataclasses.replace(ORGANISATION, payer_inn=""), ["F010"]),
    "organisation_kpp_lower_case": (
        dataclasses.replace(ORGANISATION, payer_kpp="7736ab001"),
        ["F011"],
    ),
    "organisation_kpp_short": (dataclasses.replace(ORGANISATION, payer_kpp="77360100"), ["F011"]),
    "organisation_kpp_missing": (dataclasses.replace(ORGANISATION, payer_kpp=None), ["F011"]),
    "organisation_inn_and_kpp_wrong": (
        dataclasses.replace(ORGANISATION, payer_inn="1234567895", payer_kpp="X"),
        ["F010", "F011"],
    ),
    "individual_clean": (INDIVIDUAL, []),
    "individual_without_ogrnip": (dataclasses.replace(INDIVIDUAL, payer_ogrnip=None), []),
    "individual_inn_wrong_check": (
        dataclasses.replace(INDIVIDUAL, payer_inn="123456789037"),
        ["F010"],
    ),
    "individual_with_organisation_inn": (
        dataclasses.replace(INDIVIDUAL, payer_inn="7707083893"),
        ["F010"],
    ),
}


@pytest.mark.parametrize("name", list(HEADER_CASES))
def test_header_rule(name: str) -> None:
    from pipelines.validate.rsv import validate_rsv_header

    header, codes = HEADER_CASES[name]
    assert validate_rsv_header(header) == codes
    assert decide(codes) is (R if codes else A)


def person(seq: int = 0, **changes: object) -> InsuredPerson:
    base = InsuredPerson(
        seq=seq,
        snils="112-233-445 95",
        inn="500100732259",
        birth_date=date(1990, 5, 17),
        citizenship="860",
        sex=1,
        document_kind="10",
        document_number="FA 1234567",
        name=FullName("Каримов", "Рустам"),
        payments=(Payment(1, "ВПНР", Decimal("50000.00")),),
    )
    return dataclasses.replace(base, **changes)


PERSON_CASES: dict[str, tuple[InsuredPerson, list[str], Outcome]] = {
    "clean": (person(), [], A),
    "snils_plain_digits": (person(snils="11223344595"), [], A),
    "inn_missing": (person(inn=None), [], A),
    "annulled_clean": (person(annulled=True), [], A),
    # R001
    "snils_wrong_check": (person(snils="11223344590"), ["R001"], R),
    "snils_printed_wrong_check": (person(snils="010-242-368 00"), ["R001"], R),
    "snils_malformed": (person(snils="112-233-445"), ["R001"], R),
    # R002
    "snils_missing": (person(snils=None), ["R002"], R),
    "snils_blank": (person(snils="  "), ["R002"], R),
    # R006: a warning, the outcome stays
    "inn_wrong_check": (person(inn="123456789037"), ["R006"], A),
    "inn_of_an_organisation": (person(inn="7707083893"), ["R006"], A),
    "inn_malformed": (person(inn="50010073225"), ["R006"], A),
    # several at once
    "snils_wrong_and_inn_wrong": (
        person(snils="11223344590", inn="1234567895"),
        ["R001", "R006"],
        R,
    ),
    "snils_missing_and_inn_wrong": (person(snils=None, inn="123456789037"), ["R002", "R006"], R),
}

NAMES = list(PERSON_CASES)
SEQ = {name: i + 1 for i, name in enumerate(NAMES)}


def case_persons() -> list[InsuredPerson]:
    return [dataclasses.replace(PERSON_CASES[n][0], seq=SEQ[n]) for n in NAMES]


@pytest.fixture(scope="module")
def results() -> dict[int, list[str]]:
    from pipelines.validate.rsv import validate_rsv_persons

    return validate_rsv_persons(case_persons())


@pytest.mark.parametrize("name", NAMES)
def test_person_rule(results: dict[int, list[str]], name: str) -> None:
    _, codes, outcome = PERSON_CASES[name]
    assert results.get(SEQ[name], []) == codes
    assert decide(codes) is outcome


def test_only_persons_with_codes_appear(results: dict[int, list[str]]) -> None:
    assert set(results) == {SEQ[n] for n in NAMES if PERSON_CASES[n][1]}


def test_suites_codes() -> None:
    from pipelines.validate.rsv import rsv_header_suite, rsv_person_suite
    from pipelines.validate.suite import suite_codes

    assert suite_codes(rsv_header_suite()) == ["F010", "F011"]
    assert suite_codes(rsv_person_suite()) == ["R001", "R002", "R006"]
    rules_md = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in ["F010", "F011", "R001", "R002", "R006"]:
        assert code in CATALOGUE
        assert f"| {code} |" in rules_md


def test_persons_in_chunks_match_one_pass(results: dict[int, list[str]]) -> None:
    from pipelines.validate.rsv import validate_rsv_persons

    persons = case_persons()
    n = 3_000
    generated = [dataclasses.replace(persons[i % len(persons)], seq=i + 1) for i in range(n)]
    chunked = validate_rsv_persons(iter(generated), chunk_size=997)
    assert chunked == validate_rsv_persons(generated, chunk_size=None)
    expected = {
        i + 1: PERSON_CASES[NAMES[i % len(NAMES)]][1]
        for i in range(n)
        if PERSON_CASES[NAMES[i % len(NAMES)]][1]
    }
    assert chunked == expected


def test_no_persons_gives_nothing() -> None:
    from pipelines.validate.rsv import validate_rsv_persons

    assert validate_rsv_persons([]) == {}


def test_validation_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    from pipelines.validate.rsv import validate_rsv_header, validate_rsv_persons

    validate_rsv_header(ORGANISATION)
    validate_rsv_persons(case_persons())
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_files_validated_together_match_each_alone() -> None:
    """Several reports in one validation: each gets the codes, and the Data Docs counts, that
    it gets when it is validated alone."""
    from pipelines.validate import docs
    from pipelines.validate.rsv import (
        validate_rsv_files,
        validate_rsv_header,
        validate_rsv_persons,
    )

    persons = case_persons()
    files = {
        "a": (ORGANISATION, persons),
        "b": (HEADER_CASES["organisation_kpp_short"][0], persons[::2]),
        "c": (INDIVIDUAL, []),
        "d": (HEADER_CASES["individual_inn_wrong_check"][0], persons[1::3]),
    }

    def pages(collect) -> list:
        with docs.collecting() as collection:
            collect()
        return [(r.suite_name, [x.result for x in r.results]) for r in collection.results()]

    verdicts = validate_rsv_files(files)
    assert verdicts is not None and set(verdicts) == set(files)
    for name, (header, blocks) in files.items():
        verdict = verdicts[name]
        assert verdict.header_codes == validate_rsv_header(header)
        assert verdict.person_codes == validate_rsv_persons(blocks)

        def alone(header=header, blocks=blocks):
            validate_rsv_header(header)
            validate_rsv_persons(blocks)

        def together(verdict=verdict):
            for share in (verdict.header_docs, verdict.person_docs):
                if share is not None:
                    docs.collect(share)

        assert pages(together) == pages(alone), name
    assert verdicts["b"].header_codes == ["F011"] and verdicts["d"].header_codes == ["F010"]
    assert verdicts["c"].person_docs is None
