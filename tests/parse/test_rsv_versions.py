"""РСВ form versions 5.01–5.08: the table, the schemas derived from 5.08's, what each version
admits, and F014 for the rest (docs/formats.md)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from pipelines.demo.rsv_gen import RsvPersonSpec, RsvReportSpec, make_org_inn, make_snils, write_rsv
from pipelines.enrol.contributions import FOREIGN_STAYING_PREFIX
from pipelines.parse import rsv, rsv_versions
from pipelines.parse.rsv_versions import BASELINE, VERSIONS, rules_for, schema_for
from pipelines.parse.xmlsafe import FileError

OLDER = [v for v in VERSIONS if v != BASELINE]
PAY = Decimal("41000.00")
_XS = "{http://www.w3.org/2001/XMLSchema}"


def person(n: int, *categories: str, **kw) -> RsvPersonSpec:
    fields = {
        "snils": make_snils(410_000_000 + n),
        "last_name": "Турсунов",
        "first_name": "Жасур",
        "birth_date": date(1993, 8, 4),
        "citizenship": "860",
        "document_kind": "10",
        "document_number": f"FA{3000000 + n}",
        "months": tuple((m, c, PAY) for m in (1, 2, 3) for c in categories),
    }
    return RsvPersonSpec(**{**fields, **kw})


def report(version: str, persons, **kw) -> RsvReportSpec:
    return RsvReportSpec(
        payer_name='ООО "Северный склад"',
        payer_inn=make_org_inn("770708389"),
        payer_kpp="770701001",
        year=2024,
        persons=tuple(persons),
        form_version=version,
        **kw,
    )


# Categories given as 5.08 spells them: a resident, the three renamed ones, a staying worker.
MIXED = [
    person(1, "НР"),
    person(2, "ПВ"),
    person(3, "ВЖПВ"),
    person(4, "ВППВ"),
    person(5, "ВПНР", "ВППВ"),
]


def refused(call, path: Path) -> FileError:
    with pytest.raises(FileError) as caught:
        call(path)
    return caught.value


def conforms(schema: etree.XMLSchema, path: Path) -> bool:
    """Whole-document validation, independent of the streaming code under test."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return schema.validate(etree.parse(str(path), parser))


def with_version(path: Path, version: str, into: Path) -> Path:
    """The same 5.08 file with another ВерсФорм, written as character references, so any
    character can be given (the generator writes windows-1251 and spells categories by
    version)."""
    into.mkdir(exist_ok=True)
    out = into / path.name
    plain = {ch for ch in version if (ch.isascii() and ch.isalnum()) or ch in ". "}
    value = "".join(ch if ch in plain else f"&#{ord(ch)};" for ch in version)
    out.write_bytes(path.read_bytes().replace(b'="5.08"', f'="{value}"'.encode("ascii"), 1))
    return out


# --- the table --------------------------------------------------------------------------------


def test_the_table_reads_5_01_to_5_08_and_only_5_08_has_its_own_schema():
    assert list(VERSIONS) == [f"5.0{n}" for n in range(1, 9)]
    assert [v for v, rules in VERSIONS.items() if not rules.derived] == [BASELINE]
    baseline = VERSIONS[BASELINE]
    assert baseline.category_family == ("ПВ", "ВЖПВ", "ВППВ")
    assert (baseline.category_pattern, baseline.document_kind_pattern) == (None, None)
    assert baseline.optional_person_attributes == frozenset()
    for version in OLDER:
        rules = VERSIONS[version]
        assert rules.category_family == ("МС", "ВЖМС", "ВПМС")
        assert rules.category_pattern == "[А-ЯЁ]{2,4}"
        assert rules.document_kind_pattern == "[0-9]{2}"
        assert rules.optional_person_attributes == {"ДатаРожд", "СерНомДок"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        baseline.version = "5.09"  # type: ignore[misc]


def test_the_staying_prefix_marks_the_same_workers_in_both_families():
    """ВПМС (before 5.08) counts like ВППВ (5.08); the residing and resident codes never do."""
    for version, rules in VERSIONS.items():
        spelt = {code: rules.category_code(code) for code in ("ПВ", "ВЖПВ", "ВППВ", "ВПНР")}
        staying = {new for new, code in spelt.items() if code.startswith(FOREIGN_STAYING_PREFIX)}
        assert staying == {"ВППВ", "ВПНР"}, version
    assert VERSIONS["5.06"].category_code("ВППВ") == "ВПМС"
    assert VERSIONS[BASELINE].category_code("ВППВ") == "ВППВ"


# --- schemas ----------------------------------------------------------------------------------


def _named(tree: etree._ElementTree) -> dict[str, bytes]:
    return {f"{e.tag}:{e.get('name')}": etree.tostring(e) for e in tree.getroot()}


@pytest.mark.parametrize("version", OLDER)
def test_a_derived_schema_differs_from_5_08_only_where_the_version_does(version):
    derived = _named(rsv_versions.schema_document(VERSIONS[version]))
    baseline = _named(rsv_versions.schema_document(VERSIONS[BASELINE]))
    changed = {name for name in baseline if derived[name] != baseline[name]}
    assert derived.keys() == baseline.keys()
    assert changed == {
        f"{_XS}element:Файл",  # ВерсФорм
        f"{_XS}complexType:PersonDataType",  # ДатаРожд, СерНомДок optional
        f"{_XS}simpleType:InsuredCategoryType",  # open pattern
        f"{_XS}simpleType:IdentityDocumentKindType",  # two digits
    }


def test_schemas_are_compiled_once_per_version():
    assert schema_for("5.06") is schema_for(" 5.06 ") is rsv.schema("5.06")
    assert rsv.schema() is schema_for(BASELINE)
    assert schema_for("5.06") is not schema_for("5.07")


def test_a_derivation_that_no_longer_finds_its_place_fails_loudly():
    tree = rsv_versions.schema_document(VERSIONS[BASELINE])
    kind = tree.getroot().find(f"{_XS}simpleType[@name='IdentityDocumentKindType']")
    kind.set("name", "Renamed")
    with pytest.raises(RuntimeError, match=r"the 5\.08 schema changed"):
        rsv_versions._restrict_to_pattern(tree.getroot(), "IdentityDocumentKindType", "[0-9]{2}")


# --- each version is read ---------------------------------------------------------------------


@pytest.mark.parametrize("version", list(VERSIONS))
def test_each_version_is_generated_valid_under_its_schema_and_parsed(version, tmp_path):
    path = write_rsv(tmp_path, report(version, MIXED))
    assert conforms(schema_for(version), path)
    assert conforms(schema_for(BASELINE), path) == (version == BASELINE)
    rsv.validate_structure(path)
    header = rsv.read_header(path)
    rsv.check_file_name(path, header)
    assert (header.form_version, header.quarter) == (version, 1)
    got = [sorted({p.insured_category for p in x.payments}) for x in rsv.iter_persons(path)]
    if version == BASELINE:
        assert got == [["НР"], ["ПВ"], ["ВЖПВ"], ["ВППВ"], ["ВПНР", "ВППВ"]]
    else:
        assert got == [["НР"], ["МС"], ["ВЖМС"], ["ВПМС"], ["ВПМС", "ВПНР"]]


@pytest.mark.parametrize("version", OLDER)
def test_older_versions_may_leave_out_birth_date_and_document_number(version, tmp_path):
    path = write_rsv(tmp_path, report(version, MIXED, omit_birth_and_document=True))
    text = path.read_bytes().decode("cp1251")
    assert "ДатаРожд" not in text and "СерНомДок" not in text
    assert conforms(schema_for(version), path)
    rsv.validate_structure(path)
    people = list(rsv.iter_persons(path))
    assert [(p.birth_date, p.document_number) for p in people] == [(None, None)] * len(MIXED)
    assert [p.snils for p in people] == [p.snils for p in MIXED]
    assert all(p.document_kind == "10" and p.citizenship == "860" for p in people)


def test_missing_birth_date_is_accepted_in_5_06_and_refused_in_5_08(tmp_path):
    unborn = [person(1, "ВПНР", birth_date=None), person(2, "ВПНР", document_number=None)]
    older = write_rsv(tmp_path, report("5.06", unborn, file_guid="A-1"))
    rsv.validate_structure(older)
    first, second = rsv.iter_persons(older)
    assert (first.birth_date, first.document_number) == (None, "FA3000001")
    assert (second.birth_date, second.document_number) == (date(1993, 8, 4), None)

    current = write_rsv(tmp_path, report(BASELINE, unborn[:1], file_guid="B-1"))
    error = refused(rsv.validate_structure, current)
    assert error.code == "F003"
    assert error.detail.endswith("element ДанФЛПолуч: required attribute ДатаРожд missing")
    current = write_rsv(tmp_path, report(BASELINE, unborn[1:], file_guid="B-2"))
    assert refused(rsv.validate_structure, current).detail.endswith(
        "element ДанФЛПолуч: required attribute СерНомДок missing"
    )


def test_document_kinds_before_5_08_are_any_two_digits(tmp_path):
    odd = [person(1, "ВПНР", document_kind="99")]
    rsv.validate_structure(write_rsv(tmp_path, report("5.06", odd)))
    error = refused(rsv.validate_structure, write_rsv(tmp_path, report(BASELINE, odd)))
    assert error.code == "F003" and "attribute КодВидДок" in error.detail
    one_digit = write_rsv(tmp_path, report("5.06", [person(1, "ВПНР", document_kind="9")]))
    assert refused(rsv.validate_structure, one_digit).code == "F003"


def test_the_generator_omits_only_where_the_version_allows():
    with pytest.raises(ValueError, match=r"required in form 5\.08"):
        write_rsv(Path("/nonexistent"), report(BASELINE, MIXED, omit_birth_and_document=True))


# --- categories across families ---------------------------------------------------------------


def test_ms_family_in_a_5_08_file_is_schema_invalid(tmp_path):
    """МС left the list in 5.08: a 5.08 file with it breaks the schema, as any unknown code."""
    path = write_rsv(tmp_path, report(BASELINE, [person(1, "ВПМС")]))
    error = refused(rsv.validate_structure, path)
    assert error.code == "F003"
    assert error.detail.endswith(
        "element СвВыплМК, attribute КодКатЛиц: value not accepted (enumeration)"
    )


def test_pv_family_in_a_5_06_file_is_read_and_counts_like_its_ms_code(tmp_path):
    """Decision (docs/formats.md): before 5.08 КодКатЛиц is any 2–4 Cyrillic capitals, because
    the lists of those versions are not public; a ПВ code there is read, not refused, and ВППВ
    marks a temporarily staying worker in any version."""
    current = write_rsv(tmp_path, report(BASELINE, [person(1, "ВППВ"), person(2, "ВЖПВ")]))
    path = with_version(current, "5.06", tmp_path / "older")
    rsv.validate_structure(path)
    assert rsv.read_header(path).form_version == "5.06"
    staying, residing = rsv.iter_persons(path)
    assert {p.insured_category for p in staying.payments} == {"ВППВ"}
    assert staying.payments[0].insured_category.startswith(FOREIGN_STAYING_PREFIX)
    assert not residing.payments[0].insured_category.startswith(FOREIGN_STAYING_PREFIX)


@pytest.mark.parametrize("code", ["В", "ВППВХ", "vpnr", "ВП1"])
def test_the_open_pattern_still_wants_two_to_four_cyrillic_capitals(code, tmp_path):
    path = write_rsv(tmp_path, report("5.06", [person(1, code)]))
    error = refused(rsv.validate_structure, path)
    assert (error.code, error.detail.split(": ", 1)[1]) == (
        "F003",
        "element СвВыплМК, attribute КодКатЛиц: value not accepted (pattern)",
    )


# --- versions not read ------------------------------------------------------------------------


SUPPORTED = "(supported: 5.01–5.08)"


@pytest.mark.parametrize("version", ["5.99", "5.00", "4.08", "5.8"])
def test_an_unknown_version_is_f014_naming_it(version, tmp_path):
    path = write_rsv(tmp_path, report(version, MIXED[:1]))
    for call in (rsv.validate_structure, rsv.read_header):
        error = refused(call, path)
        assert (error.code, error.detail) == (
            "F014",
            f"line 2: form version {version} is not supported {SUPPORTED}",
        )


HOSTILE = [
    "Турсунов Жасур",  # a name
    "04.08.1993",  # a birth date
    "410-000-001 23",  # a СНИЛС
    "5.08" + "9" * 5000,  # long
    "5.08\u202e80.5",  # bidirectional override
    '"><script>alert(1)</script>',
    "5.0８",  # a full-width digit
]


@pytest.mark.parametrize("version", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_version_is_f014_and_the_detail_does_not_repeat_it(version, tmp_path):
    current = write_rsv(tmp_path, report(BASELINE, MIXED[:1]))
    path = with_version(current, version, tmp_path / "hostile")
    for call in (rsv.validate_structure, rsv.read_header):
        error = refused(call, path)
        assert (error.code, error.detail) == (
            "F014",
            f"line 2: form version ? is not supported {SUPPORTED}",
        )
        assert version not in str(error)


@pytest.mark.parametrize("value", ["\x1b[31m5.08", "5.08\x00", "", None, "5.06\n5.07"])
def test_rules_for_refuses_what_no_xml_attribute_could_smuggle_in(value):
    with pytest.raises(FileError) as caught:
        rules_for(value)
    assert (caught.value.code, caught.value.detail) == (
        "F014",
        f"form version ? is not supported {SUPPORTED}",
    )


def test_a_known_version_with_surrounding_spaces_is_a_schema_error_not_f014(tmp_path):
    """The table is looked up without the spaces; the schema, which preserves them, says F003."""
    path = write_rsv(tmp_path, report(" 5.06", MIXED[:1]))
    error = refused(rsv.validate_structure, path)
    assert error.code == "F003"
    assert error.detail.endswith(
        "element Файл, attribute ВерсФорм: value not accepted (enumeration)"
    )


def test_a_file_without_a_version_is_f003(tmp_path):
    path = write_rsv(tmp_path, report(BASELINE, MIXED[:1]))
    path.write_bytes(path.read_bytes().replace(' ВерсФорм="5.08"'.encode("cp1251"), b"", 1))
    assert refused(rsv.validate_structure, path).detail == (
        "line 2: element Файл: required attribute ВерсФорм missing"
    )
    assert (
        refused(rsv.read_header, path).detail == "line 2: element Файл: attribute ВерсФорм missing"
    )


def test_a_wrong_knd_is_still_f012_whatever_the_version(tmp_path):
    path = write_rsv(tmp_path, report("5.99", MIXED[:1]))
    path.write_bytes(path.read_bytes().replace(b'="1151111"', b'="1151001"', 1))
    error = refused(rsv.validate_structure, path)
    assert (error.code, error.detail) == ("F012", "line 3: КНД is not 1151111")
