"""The РСВ 5.08 adapter (ФНС КНД 1151111): fixtures that state what must happen, conformance
with the official schema, generator round trips and streaming memory."""

from __future__ import annotations

import os
import random
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipelines.demo.rsv_gen import (
    RsvPersonSpec,
    RsvReportSpec,
    make_org_inn,
    make_person_inn,
    make_snils,
    random_rsv_reports,
    synthetic_persons,
    write_rsv,
)
from pipelines.identifiers import inn_is_valid, kpp_is_valid, ogrn_is_valid, snils_is_valid
from pipelines.parse import rsv
from pipelines.parse.xmlsafe import FileError
from pipelines.records import PERIOD_QUARTER, FullName, InsuredPerson, Payment, RsvHeader

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "rsv"
OUR_XSD = REPO / "schemas" / "fns-rsv-5.08" / "NO_RASCHSV.xsd"
OFFICIAL_XSD = "NO_RASCHSV_1_162_00_05_08_02.xsd"
OFFICIAL_SAMPLE = "NO_RASCHSV_zero_report_sample.xml"

_ID = "NO_RASCHSV_7707_7707_7707083893770701001_{date}_A0000000-0000-4000-8000-{n:012d}.xml"
NAMES = {
    "valid": _ID.format(date="20240423", n=1),
    "correction": _ID.format(date="20240610", n=2),
    "payer_inn_bad_check": _ID.format(date="20240423", n=3).replace("893770", "894770"),
    "person_snils_bad_check": _ID.format(date="20240423", n=4),
    "person_without_snils": _ID.format(date="20240423", n=5),
    "payer_kpp_malformed": _ID.format(date="20240423", n=6),
    "file_name_mismatch": _ID.format(date="20240423", n=70),
    "zero_report": _ID.format(date="20240415", n=8).replace("7707083893", "7707555120"),
    "payer_individual": (
        "NO_RASCHSV_7707_7707_770765432128_20250125_A0000000-0000-4000-8000-000000000009.xml"
    ),
    "person_birth_date_impossible": _ID.format(date="20240423", n=10),
    "unsupported_form_version": _ID.format(date="20240423", n=11),
    "utf8_no_declaration": _ID.format(date="20240423", n=12),
    "wrong_encoding": "wrong_encoding.xml",
    "truncated": "truncated.xml",
    "entity_bomb": "entity_bomb.xml",
    "xxe": "xxe.xml",
    "schema_invalid_no_file_id": "schema_invalid_no_file_id.xml",
    "empty": "empty.xml",
}

# What each schema says of each fixture: (official, ours). Ours accepts everything the official
# accepts; it also accepts a block without СНИЛС, left to the per-record rule R002, and a
# malformed КПП, left to the file rule F011.
CONFORMANCE = {
    "valid": (True, True),
    "correction": (True, True),
    "payer_inn_bad_check": (True, True),
    "person_snils_bad_check": (True, True),
    "person_without_snils": (False, True),
    "payer_kpp_malformed": (False, True),
    "file_name_mismatch": (True, True),
    "zero_report": (True, True),
    "payer_individual": (True, True),
    "person_birth_date_impossible": (True, True),
    "unsupported_form_version": (False, False),
    "utf8_no_declaration": (True, True),
    "wrong_encoding": (False, False),
    "truncated": (False, False),
    "entity_bomb": (False, False),
    "xxe": (False, False),
    "schema_invalid_no_file_id": (False, False),
    "empty": (False, False),
}


def fixture(role: str) -> Path:
    return FIXTURES / NAMES[role]


def persons(path: Path) -> list[InsuredPerson]:
    return list(rsv.iter_persons(path))


def refused(call, path: Path) -> FileError:
    with pytest.raises(FileError) as caught:
        result = call(path)
        if result is not None and not isinstance(result, RsvHeader):
            list(result)
    return caught.value


ALL_ENTRY_POINTS = [
    rsv.validate_structure,
    rsv.read_header,
    rsv.iter_persons,
    rsv.iter_checked_persons,
]


# --- schemas ----------------------------------------------------------------------------------


def reference_dir() -> Path:
    """The shared official reference for РСВ 5.08; a missing one fails the run, never skips."""
    base = os.environ.get("ERZL_SHARED_REFERENCE")
    root = Path(base) if base else REPO.parent / "shared" / "reference"
    directory = root / "fns-rsv-5.08"
    if not (directory / OFFICIAL_XSD).is_file():
        pytest.fail(
            f"official РСВ 5.08 schema not found: expected {directory / OFFICIAL_XSD}. "
            "Set ERZL_SHARED_REFERENCE to the shared reference directory."
        )
    return directory


def _hardened() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@pytest.fixture(scope="module")
def official() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(reference_dir() / OFFICIAL_XSD), _hardened()))


@pytest.fixture(scope="module")
def ours() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(OUR_XSD), _hardened()))


def conforms(schema: etree.XMLSchema, path: Path) -> bool:
    """Whole-document validation, independent of the streaming code under test."""
    try:
        document = etree.parse(str(path), _hardened())
    except etree.XMLSyntaxError:
        return False
    if document.docinfo.doctype:
        return False  # a DTD is refused before any schema is consulted
    return schema.validate(document)


# --- fixtures: valid reports ------------------------------------------------------------------


def test_valid_report_header_and_name():
    path = fixture("valid")
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    rsv.check_file_name(path, header)
    assert header == RsvHeader(
        file_id=path.stem,
        form_version="5.08",
        document_date=date(2024, 4, 23),
        correction_no=0,
        period_code="21",
        year=2024,
        tax_office="7707",
        payer_inn="7707083893",
        payer_kpp="770701001",
        payer_name='ООО "Северный склад"',
    )
    assert header.quarter == 1
    assert inn_is_valid(header.payer_inn) and kpp_is_valid(header.payer_kpp)


def test_valid_report_persons_residents_residing_and_staying():
    people = persons(fixture("valid"))
    assert [p.seq for p in people] == [1, 2, 3, 4]
    sokolova, rahimzoda, karimov, yusupova = people

    assert sokolova == InsuredPerson(
        seq=1,
        snils="11223344595",
        inn="770712345633",
        birth_date=date(1988, 3, 14),
        citizenship="643",
        sex=2,
        document_kind="21",
        document_number="45 08 123456",
        name=FullName("Соколова", "Анна", "Сергеевна"),
        payments=(
            Payment(1, "НР", Decimal("85000.00"), Decimal("85000.00"), Decimal("18700.00")),
            Payment(2, "НР", Decimal("85000.00"), Decimal("85000.00"), Decimal("18700.00")),
            Payment(3, "НР", Decimal("97500.50"), Decimal("97500.50"), Decimal("21450.11")),
        ),
        annulled=False,
    )
    # A temporarily residing Tajik citizen without a patronymic, on a temporary permit (15).
    assert rahimzoda.name == FullName("Рахимзода", "Фирдавс", None)
    assert (rahimzoda.citizenship, rahimzoda.document_kind, rahimzoda.inn) == ("762", "15", None)
    assert {p.insured_category for p in rahimzoda.payments} == {"ВЖНР"}
    # A temporarily staying Uzbek citizen, paid twice in month 3: each payment is kept.
    assert karimov.name.middle_name == "Ахмад угли"
    assert [(p.month, p.insured_category, p.amount) for p in karimov.payments] == [
        (1, "ВПНР", Decimal("61000.00")),
        (2, "ВПНР", Decimal("61000.00")),
        (3, "ВПНР", Decimal("45000.00")),
        (3, "ВПНР", Decimal("16000.00")),
    ]
    # Hired in month 2 of the quarter.
    assert [p.month for p in yusupova.payments] == [2, 3]
    assert all(isinstance(p.amount, Decimal) for person in people for p in person.payments)
    assert not any(p.annulled for p in people)
    assert all(snils_is_valid(p.snils) for p in people)


def test_correction_replaces_amounts_and_annuls_a_block():
    primary, correction = rsv.read_header(fixture("valid")), rsv.read_header(fixture("correction"))
    assert correction.correction_no == 1
    key = ("payer_inn", "payer_kpp", "year", "period_code")
    assert [getattr(correction, k) for k in key] == [getattr(primary, k) for k in key]
    people = persons(fixture("correction"))
    karimov, yusupova = people[2], people[3]
    assert [p.amount for p in karimov.payments if p.month == 3] == [Decimal("63500.00")]
    # An annulling block names the person and carries no payments.
    assert yusupova.annulled and yusupova.payments == ()
    assert yusupova.snils == "30025146900"
    assert [p.annulled for p in people] == [False, False, False, True]


def test_zero_report_in_the_official_style():
    """UTF-8 with its declaration, one line, a representative signing, no totals, no persons."""
    path = fixture("zero_report")
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    rsv.check_file_name(path, header)
    assert header.payer_name == 'Садоводческое товарищество "Заречье"'
    assert (header.payer_inn, header.document_date) == ("7707555120", date(2024, 4, 15))
    assert persons(path) == []


@pytest.mark.conformance
def test_official_sample_is_read_and_its_name_is_not_its_id():
    path = reference_dir() / OFFICIAL_SAMPLE
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    assert (header.payer_inn, header.payer_kpp, header.quarter) == ("7701234567", "770101001", 1)
    assert persons(path) == []
    # The sample's ИНН has a wrong check digit: the schema lets it through, rule F010 does not.
    assert not inn_is_valid(header.payer_inn)
    # Saved under a descriptive name, the sample no longer matches its ИдФайл.
    assert refused(lambda p: rsv.check_file_name(p, header), path).code == "F006"


def test_individual_entrepreneur_as_payer():
    path = fixture("payer_individual")
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    rsv.check_file_name(path, header)
    assert (header.payer_kpp, header.payer_name) == (None, "Тошматов Шерзод")
    assert len(header.payer_inn) == 12 and inn_is_valid(header.payer_inn)
    assert ogrn_is_valid(header.payer_ogrnip)
    assert (header.period_code, header.quarter) == ("34", 4)
    assert len(persons(path)) == 1


def test_utf8_without_declaration_reads_like_the_windows_1251_original():
    path = fixture("utf8_no_declaration")
    rsv.validate_structure(path)
    rsv.check_file_name(path, rsv.read_header(path))
    assert persons(path) == persons(fixture("valid"))


# --- fixtures: what business rules, not the schema, must catch --------------------------------


def test_payer_inn_with_wrong_check_digit_is_schema_valid():
    path = fixture("payer_inn_bad_check")
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    rsv.check_file_name(path, header)
    assert header.payer_inn == "7707083894"
    assert not inn_is_valid(header.payer_inn)  # rule F010


def test_person_snils_with_wrong_check_digit_is_schema_valid():
    path = fixture("person_snils_bad_check")
    rsv.validate_structure(path)
    good, bad = persons(path)
    assert snils_is_valid(good.snils)
    assert bad.snils == "14848125500" and not snils_is_valid(bad.snils)  # rule R001


def test_person_without_snils_passes_our_schema_and_parses_as_none():
    """ФНС requires СНИЛС; the project leaves it to rule R002 so one block does not sink a file."""
    path = fixture("person_without_snils")
    rsv.validate_structure(path)
    first, second = persons(path)
    assert first.snils is None and first.name.last_name == "Каримов"
    assert second.snils == "11223344595"


def test_impossible_birth_date_parses_as_none():
    path = fixture("person_birth_date_impossible")
    rsv.validate_structure(path)  # 29.02 matches the date pattern of both schemas
    _, rahimzoda = persons(path)
    assert rahimzoda.birth_date is None
    assert rahimzoda.name == FullName("Рахимзода", "Фирдавс", None)


# --- fixtures: refused files ------------------------------------------------------------------


def test_malformed_kpp_passes_the_schema_for_rule_f011_to_name_it():
    path = fixture("payer_kpp_malformed")
    rsv.validate_structure(path)  # the form of a КПП is a business rule, not a schema error
    assert not kpp_is_valid(rsv.read_header(path).payer_kpp)


def test_file_name_not_matching_its_id_is_f006():
    path = fixture("file_name_mismatch")
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    error = refused(lambda p: rsv.check_file_name(p, header), path)
    assert error.code == "F006"
    assert "A0000000" not in str(error) and "7707083893" not in str(error)


def test_missing_file_id_is_f003_naming_line_and_element():
    path = fixture("schema_invalid_no_file_id")
    error = refused(rsv.validate_structure, path)
    assert (error.code, error.detail) == (
        "F003",
        "line 2: element Файл: required attribute ИдФайл missing",
    )
    assert refused(rsv.read_header, path).code == "F003"


def test_unsupported_form_version_is_f014(tmp_path):
    """The fixture's ВерсФорм 5.07 was unsupported when it was written; 5.01–5.08 are read now
    (tests/parse/test_rsv_versions.py), so a version outside them is made from it."""
    path = fixture("unsupported_form_version")
    rsv.validate_structure(path)
    assert rsv.read_header(path).form_version == "5.07"
    unknown = tmp_path / path.name
    unknown.write_bytes(path.read_bytes().replace(b'="5.07"', b'="5.99"', 1))
    for call in (rsv.validate_structure, rsv.read_header):
        error = refused(call, unknown)
        assert (error.code, error.detail) == (
            "F014",
            "line 2: form version 5.99 is not supported (supported: 5.01–5.08)",
        )


@pytest.mark.parametrize("call", ALL_ENTRY_POINTS, ids=lambda c: c.__name__)
def test_declared_windows_1251_but_utf8_is_f001(call):
    # "И" is D0 98 in UTF-8, and 98 is no character in windows-1251.
    assert refused(call, fixture("wrong_encoding")).code == "F001"


def test_truncated_file_is_f001_though_its_header_is_readable():
    path = fixture("truncated")
    assert rsv.read_header(path).payer_inn == "7707083893"  # the prologue is intact
    assert refused(rsv.validate_structure, path).code == "F001"
    assert refused(rsv.iter_persons, path).code == "F001"
    assert refused(rsv.iter_checked_persons, path).code == "F001"


@pytest.mark.parametrize("call", ALL_ENTRY_POINTS, ids=lambda c: c.__name__)
def test_entity_bomb_is_f002_before_any_expansion(call):
    started = time.perf_counter()
    assert refused(call, fixture("entity_bomb")).code == "F002"
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("call", ALL_ENTRY_POINTS, ids=lambda c: c.__name__)
def test_external_entity_is_f002_and_nothing_is_read(call):
    error = refused(call, fixture("xxe"))
    assert error.code == "F002"
    assert "root" not in str(error)


@pytest.mark.parametrize("call", ALL_ENTRY_POINTS, ids=lambda c: c.__name__)
def test_entity_bomb_behind_a_long_prologue_is_f002(call, tmp_path):
    """A DOCTYPE pushed past the first 64 KiB by a comment is refused all the same."""
    entities = '<!ENTITY e0 "ха-ха-ха-ха">' + "".join(
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)
    )
    text = fixture("valid").read_bytes().decode("cp1251")
    text = text.replace(
        "?>\n", f"?>\n<!--{' ' * 70_000}-->\n<!DOCTYPE Файл [{entities}]>\n", 1
    ).replace('НаимОрг="ООО &quot;Северный склад&quot;"', 'НаимОрг="&e9;"', 1)
    path = tmp_path / "late_doctype.xml"
    path.write_bytes(text.encode("cp1251"))
    started = time.perf_counter()
    assert refused(call, path).code == "F002"
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("call", ALL_ENTRY_POINTS, ids=lambda c: c.__name__)
def test_empty_file_is_f007(call):
    assert refused(call, fixture("empty")).code == "F007"


# --- violations are located, values never echoed ----------------------------------------------


def test_violation_detail_names_line_and_element_not_the_value(tmp_path):
    text = fixture("valid").read_bytes().decode("cp1251")
    lines = text.split("\n")
    line = next(i for i, s in enumerate(lines, 1) if 'Фамилия="Каримов"' in s)
    bad = tmp_path / fixture("valid").name
    bad.write_bytes(text.replace('Фамилия="Каримов"', 'Фамилия="Karimov"').encode("cp1251"))
    error = refused(rsv.validate_structure, bad)
    assert (
        error.detail == f"line {line}: element ФИО, attribute Фамилия: value not accepted (pattern)"
    )
    assert "Karimov" not in str(error)


def test_first_violation_in_a_large_file_is_located_exactly(tmp_path):
    spec = _synthetic_report(4_000)
    path = write_rsv(tmp_path, spec)
    raw = path.read_bytes()
    target = printed(spec.persons[2_500].snils).encode("cp1251")
    at = raw.index(target)
    later = raw.index(printed(spec.persons[3_000].snils).encode("cp1251"))
    broken = raw[:at] + b"X" + raw[at + 1 : later] + b"Y" + raw[later + 1 :]
    path.write_bytes(broken)
    line = raw[:at].count(b"\n") + 1
    error = refused(rsv.validate_structure, path)
    assert error.code == "F003"
    assert error.detail.startswith(f"line {line}: element ДанФЛПолуч, attribute СНИЛС:")
    assert target.decode() not in error.detail


# --- read once, the schema checked on the way ------------------------------------------------

DAMAGE = {  # what breaks the schema: the parser meets some of it first, some it does not notice
    "bad name": ('Фамилия="Каримов"', 'Фамилия="Karimov"'),
    "bad month": ('Месяц="2" КодКатЛиц="ВЖНР"', 'Месяц="x" КодКатЛиц="ВЖНР"'),
    "missing amount": ('СумВыпл="52300.00"', ""),
    "missing category": ('КодКатЛиц="ВЖНР"', ""),
    "stray element": ("<СвВыплСВОПС>", "<Лишний/><СвВыплСВОПС>"),
    "missing file id": ('ИдФайл="', 'ИдФайлЪ="'),
    "bad form version": ('ВерсФорм="5.08"', 'ВерсФорм="5.99"'),
    "bad period": ('Период="21"', 'Период="99"'),
    "unclosed": ("</СвВыплСВОПС>", ""),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_one_pass_reader_refuses_what_the_schema_pass_refuses(tmp_path, damage):
    old, new = DAMAGE[damage]
    text = fixture("valid").read_bytes().decode("cp1251")
    assert old in text
    path = tmp_path / fixture("valid").name
    path.write_bytes(text.replace(old, new, 1).encode("cp1251"))
    expected = refused(rsv.validate_structure, path)
    got = refused(rsv.iter_checked_persons, path)
    assert (got.code, got.detail) == (expected.code, expected.detail)


def test_one_pass_reader_reads_what_the_plain_reader_reads(tmp_path):
    made = write_rsv(tmp_path, _synthetic_report(300))
    for path in [*(fixture(role) for role in ("valid", "correction", "zero_report")), made]:
        assert list(rsv.iter_checked_persons(path)) == persons(path)
    # a form before 5.08 is checked against its own version's schema
    older = fixture("unsupported_form_version")
    assert list(rsv.iter_checked_persons(older)) == persons(older)


# --- conformance ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(NAMES))
def test_fixture_conformance_against_both_schemas(role, official, ours):
    expected_official, expected_ours = CONFORMANCE[role]
    path = fixture(role)
    assert (conforms(official, path), conforms(ours, path)) == (expected_official, expected_ours)
    if expected_official:
        assert conforms(ours, path), "our schema refuses what the official one accepts"


def test_official_sample_conforms_to_both_schemas(official, ours):
    path = reference_dir() / OFFICIAL_SAMPLE
    assert conforms(official, path) and conforms(ours, path)


def test_generated_reports_conform_and_parse_back(tmp_path, official, ours):
    specs = random_rsv_reports(random.Random(2024))
    for spec in specs:
        path = write_rsv(tmp_path, spec)
        assert conforms(official, path), path.name
        assert conforms(ours, path), path.name
        rsv.validate_structure(path)
        header = rsv.read_header(path)
        rsv.check_file_name(path, header)
        assert inn_is_valid(header.payer_inn)
        parsed = persons(path)
        assert [p.snils for p in parsed] == [s.snils for s in spec.persons]
        assert all(snils_is_valid(p.snils) for p in parsed)
        assert all(p.inn is None or inn_is_valid(p.inn) for p in parsed)


def test_random_reports_tell_the_migrant_story():
    specs = random_rsv_reports(random.Random(2024))
    blocks = [(s, p) for s in specs for p in s.persons]
    categories = {c for _, p in blocks for _, c, _ in p.months}
    assert {"НР", "ВЖНР", "ВПНР"} <= categories
    assert any(s.correction_no == 1 for s in specs)
    assert any(p.annulled for _, p in blocks)
    assert all(s.correction_no for s, p in blocks if p.annulled)  # only corrections annul
    payers_of: dict[str, set[str]] = {}
    months_of: dict[str, set[tuple[int, str, int]]] = {}
    for spec, person in blocks:
        for month, category, amount in person.months:
            if category.startswith("ВП") and amount > 0:
                payers_of.setdefault(person.snils, set()).add(spec.payer_inn)
                months_of.setdefault(person.snils, set()).add((spec.year, spec.period_code, month))
    assert any(len(payers) > 1 for payers in payers_of.values())  # workers change employer
    assert max(len(m) for m in months_of.values()) >= 36  # some reach the three-year rule
    # Deterministic for a seed.
    assert random_rsv_reports(random.Random(2024)) == specs


def test_generator_is_byte_for_byte_deterministic(tmp_path):
    spec = random_rsv_reports(random.Random(5), years=(2024,))[0]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write_rsv(tmp_path / "a", spec), write_rsv(tmp_path / "b", spec)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b'<?xml version="1.0" encoding="windows-1251"?>')


# --- round trip -------------------------------------------------------------------------------

_UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ"
_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_word = st.builds(str.__add__, st.sampled_from(_UPPER), st.text(_LOWER, min_size=1, max_size=14))
_name = st.one_of(
    _word,
    st.builds(lambda a, b: f"{a}-{b}", _word, _word),
    st.builds(lambda a, b: f"{a} {b.lower()}", _word, _word),
)
_amount = st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2)
_category = st.sampled_from(["НР", "ВЖНР", "ВПНР", "ВПСТ", "МД", "СТУД"])


@st.composite
def _person(draw) -> RsvPersonSpec:
    annulled = draw(st.booleans())
    months = (
        ()
        if annulled
        else draw(
            st.lists(st.tuples(st.integers(1, 3), _category, _amount), min_size=1, max_size=4)
        )
    )
    return RsvPersonSpec(
        snils=make_snils(draw(st.integers(1_001_999, 999_999_999))),
        last_name=draw(_name),
        first_name=draw(st.none() | _name),
        middle_name=draw(st.none() | _name),
        birth_date=draw(st.dates(date(1930, 1, 1), date(2008, 12, 31))),
        citizenship=draw(st.sampled_from(["643", "860", "762", "417"])),
        sex=draw(st.sampled_from([1, 2])),
        document_kind=draw(st.sampled_from(["21", "10", "12", "15"])),
        document_number=draw(st.from_regex(r"[0-9A-ZА-Я]{1,4}( [0-9]{1,10})?", fullmatch=True)),
        inn=draw(
            st.none() | st.integers(10**8, 10**10 - 1).map(lambda n: make_person_inn(f"{n:010d}"))
        ),
        annulled=annulled,
        months=tuple(months),
    )


@st.composite
def _report(draw) -> RsvReportSpec:
    individual = draw(st.integers(0, 4)) == 0
    year = draw(st.integers(2017, 2030))
    common = dict(
        year=year,
        period_code=draw(st.sampled_from(sorted(PERIOD_QUARTER))),
        correction_no=draw(st.integers(0, 999)),
        persons=tuple(draw(st.lists(_person(), max_size=5))),
    )
    if individual:
        person = (draw(_name), draw(_name), draw(st.none() | _name))
        inn = make_person_inn(f"{draw(st.integers(10**8, 10**10 - 1)):010d}")
        return RsvReportSpec(
            payer_name="", payer_inn=inn, payer_kpp="", payer_person=person, **common
        )
    name = draw(st.text(_UPPER + _LOWER + "ABCxyz 0123456789\"'&<>-№.,«»", min_size=1, max_size=80))
    first9 = f"{draw(st.integers(10**8, 10**9 - 1)):09d}"
    return RsvReportSpec(
        payer_name=name,
        payer_inn=make_org_inn(first9, valid=draw(st.booleans())),
        payer_kpp=draw(st.from_regex(r"[1-9][0-9]{3}[0-9A-Z]{2}[0-9]{3}", fullmatch=True)),
        **common,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_report())
def test_round_trip_spec_write_read(spec, official, ours):
    with tempfile.TemporaryDirectory() as directory:
        path = write_rsv(Path(directory), spec)
        assert conforms(official, path)
        assert conforms(ours, path)
        rsv.validate_structure(path)
        header = rsv.read_header(path)
        rsv.check_file_name(path, header)
        parsed = persons(path)

    assert header.file_id == path.stem == spec.file_id
    assert header.form_version == "5.08"
    assert header.document_date == spec.effective_document_date
    assert (header.correction_no, header.period_code, header.year) == (
        spec.correction_no,
        spec.period_code,
        spec.year,
    )
    assert header.tax_office == spec.office
    assert header.payer_inn == spec.payer_inn
    if spec.payer_person is None:
        assert (header.payer_kpp, header.payer_name) == (spec.payer_kpp, spec.payer_name)
    else:
        assert header.payer_kpp is None
        assert header.payer_name == " ".join(p for p in spec.payer_person if p)

    assert len(parsed) == len(spec.persons)
    for seq, (got, want) in enumerate(zip(parsed, spec.persons, strict=True), start=1):
        assert got.seq == seq
        assert (got.snils, got.inn, got.birth_date) == (want.snils, want.inn, want.birth_date)
        assert (got.citizenship, got.sex) == (want.citizenship, want.sex)
        assert (got.document_kind, got.document_number) == (
            want.document_kind,
            want.document_number,
        )
        assert got.name == FullName(want.last_name, want.first_name, want.middle_name)
        assert got.annulled == want.annulled
        assert [(p.month, p.insured_category, p.amount) for p in got.payments] == list(want.months)
        assert all(p.base == p.amount for p in got.payments)


# --- memory -----------------------------------------------------------------------------------


def printed(snils: str | None) -> str:
    assert snils is not None
    return f"{snils[0:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"


def _synthetic_report(count: int, months: int = 3) -> RsvReportSpec:
    return RsvReportSpec(
        payer_name='ООО "Большой работодатель"',
        payer_inn=make_org_inn("770112345"),
        payer_kpp="770101001",
        year=2024,
        persons=synthetic_persons(count, months=months),
    )


def test_iter_persons_memory_is_bounded_on_50k_blocks(tmp_path):
    """Constant memory over 50k blocks.

    RSS is sampled over the whole file: it sees libxml2's tree, which tracemalloc cannot (an
    uncleared tree takes ~250 MB here), and Python objects kept per block (~1 KB each).
    tracemalloc slows every allocation several-fold, so it watches the last 5k blocks, where
    anything kept per block would add up to megabytes.
    """
    total, traced_from = 50_000, 45_000
    path = write_rsv(tmp_path, _synthetic_report(total, months=1))
    process = psutil.Process()
    rss_before = rss_peak = process.memory_info().rss
    count, python_peak = 0, None
    try:
        for _person in rsv.iter_persons(path):
            count += 1
            if count % 5_000 == 0:
                rss_peak = max(rss_peak, process.memory_info().rss)
            if count == traced_from:
                tracemalloc.start()
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == total
    assert python_peak < 512 * 2**10, python_peak
    assert rss_peak - rss_before < 32 * 2**20, rss_peak - rss_before


def test_synthetic_persons_are_distinct_and_valid():
    people = synthetic_persons(1_000, seed=3)
    assert len({p.snils for p in people}) == 1_000
    assert all(snils_is_valid(p.snils) for p in people)
    assert people[10] == people[10] and people[10] != people[11]
    assert replace(people[0], months=()) != people[0]
