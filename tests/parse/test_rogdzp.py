"""The ROGDZP reader: both versions, bare and in the registry envelope, and every adversarial
variant refused with its code — over the stored fixtures and the generator."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from pipelines.demo import zags_gen
from pipelines.parse import birth_formats, rogdzp
from pipelines.parse.xmlsafe import FileError
from pipelines.records import ABSENT, PartialDate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zags" / "rogdzp"

# file → (code it is refused with | None, records, messages)
EXPECTED = {
    "valid-4.0.0-envelope.xml": (None, 7, 5),
    "valid-4.0.1-envelope.xml": (None, 7, 5),
    "valid-4.0.0-bare.xml": (None, 7, 1),
    "valid-4.0.1-bare.xml": (None, 7, 1),
    "several_messages-4.0.1.xml": (None, 4, 3),
    "ack-4.0.0.xml": ("F004", 0, 0),
    "ack-4.0.1.xml": ("F004", 0, 0),
    "rogdinf-4.0.0.xml": ("F004", 0, 0),  # not ROGDZP; intake names it ROGDINF 4.0.0 (F014)
    "unknown_content-4.0.1.xml": ("F003", 0, 0),
    "other_version_inside-4.0.0.xml": ("F003", 0, 0),
    "other_version_inside-4.0.1.xml": ("F003", 0, 0),
    "two_in_content-4.0.1.xml": ("F003", 0, 0),
    "nested_envelope-4.0.1.xml": ("F003", 0, 0),
    "missing_act_date-4.0.1.xml": ("F003", 0, 0),
    "status_05-4.0.1.xml": ("F003", 0, 0),
    "stillborn_2-4.0.1.xml": ("F003", 0, 0),
    "missing_message_id-4.0.1.xml": ("F003", 0, 0),
    "other_version_element-4.0.0.xml": ("F003", 0, 0),
    "other_version_element-4.0.1.xml": ("F003", 0, 0),
}


def test_every_fixture_has_an_expectation():
    assert {p.name for p in FIXTURES.glob("*.xml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_read_or_refused_with_its_code(name):
    code, n_records, n_messages = EXPECTED[name]
    path = FIXTURES / name
    if code is not None:
        with pytest.raises(FileError) as caught:
            rogdzp.validate_structure(path)
        assert caught.value.code == code
        return
    rogdzp.validate_structure(path)
    assert len(list(rogdzp.iter_births(path))) == n_records
    assert len(rogdzp.messages(path)) == n_messages


@pytest.mark.parametrize("version", rogdzp.VERSIONS)
@pytest.mark.parametrize("envelope", [True, False])
def test_variants_from_the_generator_are_refused_or_read(tmp_path, version, envelope):
    for name, variant in zags_gen.ROGDZP_VARIANTS.items():
        if variant.envelope_only and not envelope:
            continue
        path = zags_gen.write_rogdzp_variant(
            tmp_path / f"{name}.xml", name, version=version, envelope=envelope
        )
        try:
            rogdzp.validate_structure(path)
            records = list(rogdzp.iter_births(path))
        except FileError as error:
            assert variant.reader_refuses, (name, error.code, error.detail)
            assert error.code in ("F003", "F004")
        else:
            assert not variant.reader_refuses, name
            assert records


def _records(version: str):
    return list(rogdzp.iter_births(FIXTURES / f"valid-{version}-envelope.xml"))


def _flagless(value):
    """4.0.0 has no "absent" flags: what 4.0.1 flags as absent it simply leaves out."""
    return None if value is ABSENT else value


def test_both_versions_say_the_same_about_the_same_acts():
    old, new = _records("4.0.0"), _records("4.0.1")
    for a, b in zip(old, new, strict=True):
        assert (a.act_number, a.status_code, a.act_date) == (
            b.act_number,
            b.status_code,
            b.act_date,
        )
        assert (a.child.stillborn, a.child.sex) == (b.child.stillborn, b.child.sex)
        assert a.child.birth_date == _flagless(b.child.birth_date)
        assert [_flagless(v) for v in dataclasses.astuple(a.child.name)] == [
            _flagless(v) for v in dataclasses.astuple(b.child.name)
        ]
        assert a.certificates == b.certificates
        if b.mother is ABSENT:
            assert a.mother is None
        else:
            assert (a.mother.name, a.mother.birth_date, a.mother.document) == (
                b.mother.name,
                b.mother.birth_date,
                b.mother.document,
            )


def test_no_snils_anywhere():
    for record in _records("4.0.1"):
        assert record.child.snils is None
        for parent in (record.mother, record.father):
            if parent not in (None, ABSENT):
                assert parent.snils is None


def test_status_stillbirth_and_the_current_certificate():
    records = _records("4.0.1")
    assert [r.status_code for r in records] == ["01", "01", "02", "01", "01", "01", "01"]
    assert [r.child.stillborn for r in records] == [False, False, False, True, False, False, False]
    corrected = records[2]
    # a repeat certificate was issued: it is the current one, the original follows
    assert [c.number for c in corrected.certificates] == ["000107", "000003"]
    assert records[3].certificates == ()


def test_versions_numbered_in_4_0_1_dated_in_4_0_0():
    assert [r.version for r in _records("4.0.1")][:3] == ["1", "1", "2"]
    dated = [r.version for r in _records("4.0.0")]
    # the date of the latest change: the corrected record's correction, the act date otherwise
    assert dated[0] == "2025-03-14"
    assert date.fromisoformat(dated[2]) > date.fromisoformat(dated[0])


def test_records_know_their_message_and_messages_come_in_order():
    path = FIXTURES / "several_messages-4.0.1.xml"
    messages = rogdzp.messages(path)
    records = list(rogdzp.iter_births(path))
    assert [r.response_id for r in records] == [
        messages[0].message_id,
        messages[1].message_id,
        messages[1].message_id,
        messages[2].message_id,
    ]
    assert len({m.message_id for m in messages}) == 3


@pytest.mark.parametrize("version", rogdzp.VERSIONS)
def test_acknowledgement_is_valid_and_matches_the_format(version):
    message = rogdzp.Message(version, "0b6a3c52-4f4e-4d0e-9d8e-5b1a2f3c4d5e")
    ack = rogdzp.acknowledgement(message)
    assert rogdzp.schema(version).validate(etree.ElementTree(ack))
    expected = etree.fromstring(zags_gen.rogdzp_response(message.message_id, version=version))
    assert (ack.tag, dict(ack.attrib)) == (expected.tag, dict(expected.attrib))


def test_an_unknown_rogdzp_version_is_unsupported_not_unknown(tmp_path):
    text = (FIXTURES / "valid-4.0.1-bare.xml").read_text("utf-8")
    path = tmp_path / "next.xml"
    path.write_text(text.replace("/112-23/4.0.1", "/112-23/4.0.2"), "utf-8")
    with pytest.raises(FileError) as caught:
        rogdzp.validate_structure(path)
    assert caught.value.code == "F014" and "4.0.2" in caught.value.detail


def test_a_version_string_cannot_smuggle_text_into_the_detail(tmp_path):
    text = (FIXTURES / "valid-4.0.1-bare.xml").read_text("utf-8")
    path = tmp_path / "next.xml"
    path.write_text(text.replace("/112-23/4.0.1", "/112-23/" + "9" * 300 + "&#10;x"), "utf-8")
    with pytest.raises(FileError) as caught:
        rogdzp.validate_structure(path)
    assert caught.value.code == "F014"
    assert "\n" not in caught.value.detail and len(caught.value.detail) < 160


def test_a_doctype_is_refused(tmp_path):
    text = (FIXTURES / "valid-4.0.1-bare.xml").read_text("utf-8")
    head, _, rest = text.partition("\n")
    path = tmp_path / "dtd.xml"
    path.write_text(f'{head}\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n{rest}')
    with pytest.raises(FileError) as caught:
        rogdzp.validate_structure(path)
    assert caught.value.code == "F002"


def test_generated_messages_in_both_versions_round_trip(tmp_path):
    specs = zags_gen.rogdzp_sample_specs()
    for version in rogdzp.VERSIONS:
        path = zags_gen.write_rogdzp(
            tmp_path / f"{version}.xml", specs, version=version, messages=3
        )
        rogdzp.validate_structure(path)
        records = list(rogdzp.iter_births(path))
        assert [r.act_number for r in records] == [s.act_number for s in specs]
        assert len(rogdzp.messages(path)) == 3
        month_only = records[1].child.birth_date
        assert isinstance(month_only, PartialDate) and month_only.day is ABSENT


def test_formats_are_chosen_by_name():
    assert birth_formats.birth_format("ROGDZP 4.0.0").name == "ROGDZP 4.0.0"
    with pytest.raises(FileError) as caught:
        birth_formats.birth_format("ROGDINF 4.0.0")
    assert caught.value.code == "F014" and "ROGDINF 4.0.0" in caught.value.detail
