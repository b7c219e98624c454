"""ROGDZP end to end: the push of ЕГР ЗАГС enrols like ROGDINF, links mothers without СНИЛС,
holds what it cannot decide, and acknowledges every message beside the receipt."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from pipelines import check, cli, run
from pipelines.demo import zags_gen
from pipelines.identifiers import enp_compose
from pipelines.parse import rogdzp
from pipelines.register import db
from pipelines.register.models import InsurerAssignment, ReceivedFile, ReceivedRecord
from tests.helpers import AS_OF, RECEIPT_NS, receipt, register

ACT_DATE = AS_OF - timedelta(days=1)
MOTHER_BORN = date(1994, 6, 11)


def _specs(n: int, seed: int = 3) -> list[zags_gen.BirthSpec]:
    made = zags_gen.random_birth_specs(
        random.Random(seed), n, act_date=ACT_DATE, stillborn_rate=0, partial_date_rate=0,
        no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    out = []
    for s in made:
        mother = dataclasses.replace(s.mother, snils=None) if s.mother else None
        out.append(dataclasses.replace(s, snils=None, mother=mother, zp_status="01"))
    return out


def _mother(spec, **changes):
    return dataclasses.replace(
        spec,
        mother=dataclasses.replace(
            spec.mother,
            last_name="Семёнова",
            first_name="Анна-Мария",
            middle_name="Петровна",
            birth_date=MOTHER_BORN,
            citizenship="643",
            document_kind="21",
            document_series="45 07",
            document_number="123456",
            **changes,
        ),
    )


@pytest.fixture
def loaded(settings, tmp_path):
    """The register holds the mother (insured with C03, no СНИЛС on file for the push to use)
    and two namesakes born the same day, told apart by nothing but their documents."""
    csv = tmp_path / "register.csv"
    rows = [
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status,"
        "document_kind,document_series,document_number",
        f"{enp_compose('45', 0, MOTHER_BORN, 1)},,СЕМЕНОВА,АННА МАРИЯ,ПЕТРОВНА,{MOTHER_BORN},2,"
        "C03,active,21,4507,123456",
        f"{enp_compose('45', 0, date(1990, 1, 2), 2)},,Иванова,Мария,Ивановна,1990-01-02,2,"
        "A01,active,21,4001,111111",
        f"{enp_compose('45', 0, date(1990, 1, 2), 3)},,Иванова,Мария,Ивановна,1990-01-02,2,"
        "B02,active,21,4002,222222",
    ]
    csv.write_text("\n".join(rows) + "\n", "utf-8")
    assert cli.main(["register", "load", str(csv)]) == 0
    return settings


def _namesake(spec):
    return dataclasses.replace(
        spec,
        mother=dataclasses.replace(
            spec.mother,
            last_name="Иванова",
            first_name="Мария",
            middle_name="Ивановна",
            birth_date=date(1990, 1, 2),
            document_series=None,
            document_number=None,  # no document: the two namesakes cannot be told apart
        ),
    )


def _acks(receipt_path) -> dict[str, etree._Element]:
    folder = receipt_path.parent
    return {
        p.name: etree.parse(str(p)).getroot() for p in sorted(folder.glob("ROGDZPResponse_*.xml"))
    }


def _outcomes(settings, file_id) -> dict[str, tuple[str, list[str], dict | None]]:
    with db.session_scope(settings) as session:
        rows = session.scalars(select(ReceivedRecord).where(ReceivedRecord.file_id == file_id))
        return {r.record_key: (r.outcome, list(r.codes or []), r.links) for r in rows}


@pytest.mark.parametrize("version", rogdzp.VERSIONS)
def test_push_enrols_links_holds_and_acknowledges(loaded, tmp_path, version):
    specs = _specs(5)
    specs[0] = _mother(specs[0])
    specs[1] = dataclasses.replace(specs[1], stillborn=True)
    specs[2] = _namesake(specs[2])
    specs[3] = dataclasses.replace(specs[3], zp_status="02")  # changed: held by the status table
    path = zags_gen.write_rogdzp(
        tmp_path / f"push-{version}.xml", specs, version=version, messages=[2, 1, 2]
    )

    files, _ = run.ingest(loaded, [path], as_of=AS_OF)
    summary = files[0]
    assert summary.feed == "zags_births" and summary.status == "partially_accepted"

    out = _outcomes(loaded, summary.file_id)
    key = [s.act_number for s in specs]
    assert out[key[0]][:2] == ("accepted", [])
    assert out[key[0]][2]["mother"] == ["name", "birth_date", "document"]
    assert out[key[1]][:2] == ("not_applicable", ["Z001"])
    assert out[key[2]][:2] == ("review", ["Z017"])
    assert out[key[3]][0] == "review"
    assert out[key[4]][:2] == ("accepted", [])
    assert (summary.received, summary.accepted) == (5, 2)

    with db.session_scope(loaded) as session:
        bases = dict(
            session.execute(
                select(ReceivedRecord.record_key, InsurerAssignment.basis)
                .join(InsurerAssignment, InsurerAssignment.record_id == ReceivedRecord.id)
                .where(ReceivedRecord.file_id == summary.file_id)
            ).all()
        )
        row = session.get(ReceivedFile, summary.file_id)
        assert row.format == f"ROGDZP {version}"
        assert check.check(session, loaded) == []
    assert bases == {key[0]: "mother_insurer", key[4]: "fund_share"}
    child = next(p for p in register(loaded) if p["first_name"] == specs[0].first_name)
    assert child["insurer_code"] == "C03"

    receipt_path = next(loaded.outbox.glob(f"receipts/**/{summary.receipt.rsplit('/', 1)[-1]}"))
    assert receipt(receipt_path)["status"] == "partially_accepted"
    file_elem = etree.parse(str(receipt_path)).getroot().find(f"{RECEIPT_NS}File")
    assert file_elem.get("format") == f"ROGDZP {version}"

    acks = _acks(receipt_path)
    expected = [m.message_id for m in rogdzp.messages(path)]
    assert len(expected) == 3
    assert sorted(a.get("ИдСвед") for a in acks.values()) == sorted(expected)
    for ack in acks.values():
        assert etree.QName(ack).namespace == rogdzp.ROOT_NS[version]
        assert ack.get("КодОбр") == "1"
        assert rogdzp.schema(version).validate(etree.ElementTree(ack))


def test_a_resent_push_is_a_duplicate_and_is_acknowledged_again(loaded, tmp_path):
    path = zags_gen.write_rogdzp(tmp_path / "push.xml", _specs(3), messages=1)
    run.ingest(loaded, [path], as_of=AS_OF)
    again = tmp_path / "again" / "push.xml"
    again.parent.mkdir()
    again.write_bytes(path.read_bytes())
    second, _ = run.ingest(loaded, [again], as_of=AS_OF)
    assert second[0].status == "duplicate"
    receipt_path = next(loaded.outbox.glob(f"receipts/**/{second[0].receipt.rsplit('/', 1)[-1]}"))
    assert len(_acks(receipt_path)) == 3
    assert len(register(loaded)) == 3 + 3


def test_a_corrected_act_updates_the_child_it_enrolled(loaded, tmp_path):
    spec = _specs(1)[0]
    first = zags_gen.write_rogdzp(tmp_path / "v1.xml", [spec])
    run.ingest(loaded, [first], as_of=AS_OF)
    corrected = dataclasses.replace(spec, version="2", first_name="Святослав", zp_status="01")
    second = zags_gen.write_rogdzp(tmp_path / "v2.xml", [corrected])
    files, _ = run.ingest(loaded, [second], as_of=AS_OF)
    assert files[0].status == "accepted"
    people = register(loaded)
    assert len(people) == 3 + 1
    assert people[-1]["first_name"] == "Святослав"
    with db.session_scope(loaded) as session:
        assert check.check(session, loaded) == []


def test_twins_stay_two_people(loaded, tmp_path):
    a = _mother(_specs(1)[0])
    b = dataclasses.replace(a, act_number=a.act_number[:-3] + "999", first_name="Вторая", sex=a.sex)
    path = zags_gen.write_rogdzp(tmp_path / "twins.xml", [a, b])
    files, _ = run.ingest(loaded, [path], as_of=AS_OF)
    assert files[0].accepted == 2 and files[0].enrolled == 2


def test_rogdinf_4_0_0_is_an_unsupported_version_named_in_the_receipt(loaded, tmp_path):
    path = zags_gen.write_rogdzp_variant(tmp_path / "old.xml", "rogdinf_400")
    files, _ = run.ingest(loaded, [path], as_of=AS_OF)
    assert (files[0].status, files[0].codes) == ("rejected", ["F014"])
    receipt_path = next(loaded.outbox.glob(f"receipts/**/{files[0].receipt.rsplit('/', 1)[-1]}"))
    file_elem = etree.parse(str(receipt_path)).getroot().find(f"{RECEIPT_NS}File")
    assert file_elem.get("format") == "ROGDINF 4.0.0"
    assert not _acks(receipt_path)


def test_a_missing_acknowledgement_is_caught_by_check(loaded, tmp_path):
    path = zags_gen.write_rogdzp(tmp_path / "push.xml", _specs(2), messages=1)
    files, _ = run.ingest(loaded, [path], as_of=AS_OF)
    receipt_path = next(loaded.outbox.glob(f"receipts/**/{files[0].receipt.rsplit('/', 1)[-1]}"))
    next(receipt_path.parent.glob("ROGDZPResponse_*.xml")).unlink()
    with db.session_scope(loaded) as session:
        found = check.check(session, loaded, hashes=False)
    assert [v.code for v in found] == ["I11"] and "acknowledgement" in found[0].ids
