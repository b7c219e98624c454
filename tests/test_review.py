"""The review queue end to end: held records listed with masked facts and their allowed actions,
resolved from the command line by two analysts (maker-checker), the register and the sender's
follow-up receipt reflecting the decision, and ``erzl check`` green after each step."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pipelines import cli
from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_compose
from pipelines.records import ABSENT, PartialDate
from pipelines.register import db
from pipelines.register.models import (
    ForeignEligibility,
    InsurerAssignment,
    Notification,
    PersonHistory,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    ReviewDecision,
    Run,
)
from tests.helpers import AS_OF, json_lines, receipt
from tests.scenarios import personal_values

ACT_DATE = AS_OF - timedelta(days=1)
NAMESAKE_BORN = date(1990, 1, 2)


def _specs(n: int, seed: int = 5) -> list[zags_gen.BirthSpec]:
    made = zags_gen.random_birth_specs(
        random.Random(seed), n, act_date=ACT_DATE, stillborn_rate=0, partial_date_rate=0,
        no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    return [
        dataclasses.replace(s, snils=None, mother=dataclasses.replace(s.mother, snils=None))
        for s in made
    ]


def _namesake(spec):
    """The mother is one of two namesakes born the same day, and sends no document."""
    return dataclasses.replace(
        spec,
        mother=dataclasses.replace(
            spec.mother, last_name="Иванова", first_name="Мария", middle_name="Ивановна",
            birth_date=NAMESAKE_BORN, document_series=None, document_number=None,
        ),
    )  # fmt: skip


NAMESAKE_ENPS = (enp_compose("45", 0, NAMESAKE_BORN, 2), enp_compose("45", 0, NAMESAKE_BORN, 3))


@pytest.fixture
def held(settings, tmp_path):
    """One file of four births: accepted, held Z017 (two namesake mothers), held Z007 (a status
    code the fund has not mapped), held Z004 (a partial birth date)."""
    csv = tmp_path / "register.csv"
    csv.write_text(
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status\n"
        f"{NAMESAKE_ENPS[0]},,Иванова,Мария,Ивановна,{NAMESAKE_BORN},2,A01,active\n"
        f"{NAMESAKE_ENPS[1]},,Иванова,Мария,Ивановна,{NAMESAKE_BORN},2,B02,active\n",
        "utf-8",
    )
    assert cli.main(["register", "load", str(csv)]) == 0
    specs = _specs(4)
    specs[1] = _namesake(specs[1])
    specs[2] = dataclasses.replace(specs[2], status_code="9999")
    specs[3] = dataclasses.replace(
        specs[3], birth_date=PartialDate(ACT_DATE.year, ACT_DATE.month, ABSENT)
    )
    (tmp_path / "in").mkdir()
    path = zags_gen.write_rogdinf(tmp_path / "in" / "ROGDINF_review.xml", specs, request_id="q-1")
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(path)]) == 0
    return {"path": path, "acts": [s.act_number for s in specs]}


def _list(capsys) -> list[dict]:
    capsys.readouterr()
    assert cli.main(["review", "list", "--json"]) == 0
    return json_lines(capsys.readouterr().out)


def _by_code(items: list[dict]) -> dict[str, dict]:
    return {item["codes"][0]["code"]: item for item in items}


def _resolve(capsys, key: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["review", "resolve", key, *args, "--as-of", AS_OF.isoformat(), "--json"])
    out = capsys.readouterr()
    return code, out.out, out.err


def _check(capsys) -> None:
    capsys.readouterr()
    assert cli.main(["check"]) == 0, capsys.readouterr().out
    capsys.readouterr()


def _record(settings, key: str) -> ReceivedRecord:
    file_id, seq = map(int, key.split(":"))
    with db.session_scope(settings) as session:
        return session.scalars(
            select(ReceivedRecord).where(
                ReceivedRecord.file_id == file_id, ReceivedRecord.seq == seq
            )
        ).one()


def _counts_add_up(settings, file_id: int) -> ReceivedFile:
    with db.session_scope(settings) as session:
        row = session.get(ReceivedFile, file_id)
        outcomes = session.scalars(
            select(ReceivedRecord.outcome).where(ReceivedRecord.file_id == file_id)
        ).all()
        assert len(outcomes) == row.records_seen
        return row


def test_list_shows_each_held_record_with_masked_facts_and_its_allowed_actions(
    held, settings, capsys
):
    items = _list(capsys)
    assert sorted(_by_code(items)) == ["Z004", "Z007", "Z017"]
    for item in items:
        assert set(item) >= {
            "key", "file_id", "file_name", "feed", "sender", "run_id", "seq", "record_key",
            "codes", "received_at", "facts", "allowed", "state", "pending",
        }  # fmt: skip
        assert item["key"] == f"{item['file_id']}:{item['seq']}"
        assert item["file_name"] == "ROGDINF_review.xml" and item["feed"] == "zags_births"
        assert item["record_key"] in held["acts"]  # an act number is shown as it is
        assert item["state"] == "held" and item["pending"] is None
        assert item["codes"][0]["text"] and item["codes"][0]["text_ru"]
        assert item["facts"]["child"]["birth_date"].endswith("-**-**")
    by_code = _by_code(items)
    assert by_code["Z017"]["allowed"] == ["accept", "reject"]
    assert by_code["Z007"]["allowed"] == ["accept", "reject"]
    assert by_code["Z004"]["allowed"] == ["reject"]  # a partial birth date makes no ЕНП
    facts = by_code["Z017"]["facts"]
    assert facts["matched"] == {"mother": ["name", "birth_date"]}
    assert facts["mother_candidates"]["count"] == 2
    assert sorted(
        (p["enp"], p["insurer_code"]) for p in facts["mother_candidates"]["people"]
    ) == sorted(zip(NAMESAKE_ENPS, ("A01", "B02"), strict=True))
    assert facts["mother"]["name"] == "И***** М***** И*****"
    assert facts["mother"]["birth_date"] == "1990-**-**"
    assert by_code["Z007"]["facts"]["status_code"] == "9999"

    capsys.readouterr()
    assert cli.main(["review", "list"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[-1] == "3 record(s) held for review"
    for value in personal_values([held["path"]]):
        assert value not in text
        assert value not in json.dumps(items, ensure_ascii=False)


def test_an_acceptance_confirmed_by_a_second_analyst_enrols_with_the_decision_as_provenance(
    held, settings, capsys
):
    item = _by_code(_list(capsys))["Z017"]
    key = item["key"]

    code, out, _ = _resolve(
        capsys, key, "--accept", "--note", "both namesakes checked", "--as", "alice"
    )
    assert code == 0
    first = json.loads(out)
    assert (first["state"], first["outcome"], first["run_id"]) == (
        "awaiting_confirmation", "review", None,
    )  # fmt: skip
    pending = _by_code(_list(capsys))["Z017"]
    assert pending["state"] == "awaiting_confirmation"
    assert pending["pending"]["decided_by"] == "alice"
    assert _record(settings, key).outcome == "review"
    _check(capsys)

    # the maker cannot be the checker
    code, _, err = _resolve(capsys, key, "--accept", "--note", "again", "--as", "alice")
    assert code == cli.EXIT_NOT_RESOLVED and err.startswith("erzl review resolve: V005 ")

    code, out, _ = _resolve(capsys, key, "--accept", "--note", "confirmed", "--as", "bob")
    assert code == 0
    done = json.loads(out)
    assert (done["state"], done["outcome"], done["decided_by"], done["confirmed_by"]) == (
        "applied", "accepted", "alice", "bob",
    )  # fmt: skip
    run_id, enp = done["run_id"], done["enp"]
    assert run_id.startswith("review-") and enp

    record = _record(settings, key)
    assert (record.outcome, record.codes, record.enp) == ("accepted", [], enp)
    with db.session_scope(settings) as session:
        run = session.get(Run, run_id)
        assert (run.trigger, run.status, run.as_of) == ("review", "finished", AS_OF)
        policy = session.get(Policy, enp)
        assert (policy.status, policy.issued_run_id, policy.issued_record_id) == (
            "active", run_id, record.id,
        )  # fmt: skip
        assignment = session.scalars(
            select(InsurerAssignment).where(InsurerAssignment.record_id == record.id)
        ).one()
        assert assignment.basis == "fund_share" and assignment.run_id == run_id
        note = session.scalars(select(Notification).where(Notification.enp == enp)).one()
        assert (note.run_id, note.event, note.basis) == (run_id, "enrolled_newborn", "fund_share")
        assert (settings.outbox / "notices" / run_id / note.notice_file).is_file()
        history = session.scalars(
            select(PersonHistory).where(PersonHistory.person_id == record.person_id)
        ).one()
        assert (history.change, history.run_id, history.file_id, history.record_id) == (
            "created", run_id, record.file_id, record.id,
        )  # fmt: skip
        decision = session.scalars(
            select(ReviewDecision).where(ReviewDecision.record_id == record.id)
        ).one()
        assert history.data["review_decision"] == {
            "id": decision.id, "action": "accept", "decided_by": "alice", "confirmed_by": "bob",
        }  # fmt: skip
        assert (decision.state, decision.run_id, decision.codes) == ("applied", run_id, ["Z017"])
        assert decision.confirmed_at is not None and "confirmed" in decision.note
        row = session.get(ReceivedFile, record.file_id)
        assert row.counts["enrolled"] == 2 and row.counts["policies_issued"] == 2
        receipt_dir = settings.outbox / "receipts" / row.run_id
        followup = receipt_dir / f"{row.receipt_name.removesuffix('.xml')}.followup-1.xml"
    sent = receipt(followup)
    assert sent["status"] == "partially_accepted"  # the Z007 and Z004 records are still held
    assert sent["counts"]["accepted"] == 2 and sent["counts"]["review"] == 2
    mine = next(r for r in sent["records"] if r["key"] == item["record_key"])
    assert (mine["outcome"], mine["enp"], mine["codes"]) == ("accepted", enp, [])
    assert key not in {i["key"] for i in _list(capsys)}
    _counts_add_up(settings, record.file_id)
    _check(capsys)

    code, _, err = _resolve(capsys, key, "--accept", "--note", "once more", "--as", "carol")
    assert code == cli.EXIT_NOT_RESOLVED and "V002" in err
    code, _, err = _resolve(capsys, key, "--reject", "--note", "once more", "--as", "carol")
    assert code == cli.EXIT_NOT_RESOLVED and "V002" in err


def test_a_rejection_applies_at_once_and_the_sender_gets_a_followup_receipt(held, settings, capsys):
    key = _by_code(_list(capsys))["Z004"]["key"]
    code, _, err = _resolve(capsys, key, "--accept", "--note", "looks fine", "--as", "alice")
    assert code == cli.EXIT_NOT_RESOLVED and "V004" in err  # reject-only
    code, _, err = _resolve(capsys, key, "--reject", "--note", "  ", "--as", "alice")
    assert code == cli.EXIT_NOT_RESOLVED and "V003" in err  # a note is required

    code, out, _ = _resolve(
        capsys, key, "--reject", "--note", "ask ЗАГС for the day", "--as", "alice"
    )
    assert code == 0
    done = json.loads(out)
    assert (done["state"], done["outcome"]) == ("applied", "rejected")
    record = _record(settings, key)
    assert (record.outcome, record.codes, record.enp) == ("rejected", ["Z004"], None)
    row = _counts_add_up(settings, record.file_id)
    assert row.status == "partially_accepted"
    followup = next(p for p in done["outputs"] if ".followup-1.xml" in p)
    sent = receipt(followup)
    assert sent["counts"]["rejected"] == 1 and sent["counts"]["received"] == 4
    mine = next(r for r in sent["records"] if r["key"] == record.record_key)
    assert (mine["outcome"], mine["codes"]) == ("rejected", ["Z004"])
    _check(capsys)

    # the next follow-up of the same file gets the next number
    other = _by_code(_list(capsys))["Z007"]["key"]
    code, out, _ = _resolve(capsys, other, "--reject", "--note", "not in force", "--as", "bob")
    assert code == 0
    assert any(".followup-2.xml" in p for p in json.loads(out)["outputs"])
    code, _, err = _resolve(capsys, key, "--reject", "--note", "again", "--as", "bob")
    assert code == cli.EXIT_NOT_RESOLVED and "V002" in err
    _check(capsys)


def test_a_rejection_turns_down_an_acceptance_awaiting_confirmation(held, settings, capsys):
    key = _by_code(_list(capsys))["Z007"]["key"]
    assert _resolve(capsys, key, "--accept", "--note", "status ok", "--as", "alice")[0] == 0
    assert _resolve(capsys, key, "--reject", "--note", "it is not", "--as", "bob")[0] == 0
    record = _record(settings, key)
    with db.session_scope(settings) as session:
        decisions = session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.record_id == record.id)
            .order_by(ReviewDecision.id)
        ).all()
        assert [(d.action, d.state, d.decided_by, d.confirmed_by) for d in decisions] == [
            ("accept", "declined", "alice", "bob"),
            ("reject", "applied", "bob", None),
        ]
    assert record.outcome == "rejected"
    _check(capsys)


def test_without_maker_checker_an_acceptance_applies_at_once(held, settings, capsys, monkeypatch):
    monkeypatch.setenv("ERZL_REVIEW_CONFIRM_ACCEPT", "false")
    key = _by_code(_list(capsys))["Z007"]["key"]
    code, out, _ = _resolve(
        capsys, key, "--accept", "--note", "code 9999 is in force", "--as", "alice"
    )
    assert code == 0
    done = json.loads(out)
    assert (done["state"], done["outcome"], done["confirmed_by"]) == ("applied", "accepted", None)
    record = _record(settings, key)
    assert record.enp == done["enp"] and record.links is None
    _check(capsys)


def test_a_later_version_applied_meanwhile_cannot_be_accepted_any_more(
    held, settings, capsys, tmp_path
):
    item = _by_code(_list(capsys))["Z007"]
    spec = _specs(4)[2]  # the same act, now in force, in a later version
    later = dataclasses.replace(spec, version="2")
    (tmp_path / "in2").mkdir()
    path = zags_gen.write_rogdinf(tmp_path / "in2" / "ROGDINF_later.xml", [later], request_id="q-2")
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(path)]) == 0
    item = next(i for i in _list(capsys) if i["key"] == item["key"])
    assert item["allowed"] == ["reject"] and item["facts"]["act_applied_version"] == "2"
    code, _, err = _resolve(capsys, item["key"], "--accept", "--note", "x", "--as", "alice")
    assert code == cli.EXIT_NOT_RESOLVED and "V006" in err
    _check(capsys)


def test_unknown_keys_are_refused(held, capsys):
    for key in ("nonsense", "999:1"):
        code, _, err = _resolve(capsys, key, "--reject", "--note", "x", "--as", "alice")
        assert code == cli.EXIT_NOT_RESOLVED and "V001" in err
    first = _list(capsys)[0]
    accepted = f"{first['file_id']}:1"  # the first record of the file was accepted
    code, _, err = _resolve(capsys, accepted, "--reject", "--note", "x", "--as", "alice")
    assert code == cli.EXIT_NOT_RESOLVED and "V002" in err


def test_a_worker_held_as_a_russian_citizen_is_enrolled_once_accepted(
    settings, capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("ERZL_FOREIGN_MIN_MONTHS", "3")
    pay = Decimal("50000.00")
    snils = rsv_gen.make_snils(300_000_077)
    worker = rsv_gen.RsvPersonSpec(
        snils=snils, last_name="Каримов", first_name="Алишер", birth_date=date(1990, 5, 17),
        citizenship="643", document_kind="10", document_number="FA2000077",
        months=((1, "ВПНР", pay), (2, "ВПНР", pay), (3, "ВПНР", pay)),
    )  # fmt: skip
    report = rsv_gen.RsvReportSpec(
        payer_name="ООО «Акме»", payer_inn=rsv_gen.make_org_inn("770123456"),
        payer_kpp="770101001", year=2025, period_code="34", correction_no=0,
        persons=[worker], document_date=date(2026, 1, 20),
    )  # fmt: skip
    (tmp_path / "rsv").mkdir()
    path = rsv_gen.write_rsv(tmp_path / "rsv", report)
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(path)]) == 0

    (item,) = _list(capsys)
    assert [c["code"] for c in item["codes"]] == ["R007"]
    assert item["allowed"] == ["accept", "reject"] and item["feed"] == "fns_rsv"
    assert item["record_key"] == "***-***-*" + snils[7:9] + " " + snils[9:]
    assert item["facts"]["reported"]["citizenship"] == "643"
    text = json.dumps(item, ensure_ascii=False)
    for value in personal_values([path]):
        assert value not in text

    key = item["key"]
    assert _resolve(capsys, key, "--accept", "--note", "a foreign citizen", "--as", "alice")[0] == 0
    code, out, _ = _resolve(capsys, key, "--accept", "--note", "passport seen", "--as", "bob")
    assert code == 0
    done = json.loads(out)
    record = _record(settings, key)
    with db.session_scope(settings) as session:
        entry = session.get(ForeignEligibility, snils)
        policy = session.get(Policy, done["enp"])
        assert entry.status == "enrolled" and policy.person_id == entry.person_id
        assert (policy.reason, policy.valid_to) == ("foreign_worker", date(AS_OF.year, 12, 31))
        history = session.scalars(
            select(PersonHistory).where(PersonHistory.person_id == entry.person_id)
        ).one()
        assert history.data["review_decision"]["confirmed_by"] == "bob"
        assert history.record_id == record.id and record.enp == done["enp"]
    assert _list(capsys) == []
    _check(capsys)
