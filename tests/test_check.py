"""``erzl check``: green on a register the pipeline made, and red — naming the invariant and
ids only — on a register broken on purpose, one way per invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from pipelines import cli
from pipelines.identifiers import enp_compose
from pipelines.register import db
from pipelines.register.models import (
    FileContent,
    Insurer,
    Notification,
    Person,
    Policy,
    ReceivedFile,
    ReceivedRecord,
    Run,
)
from tests.scenarios import births_scenario, rsv_scenario


@pytest.fixture
def made(settings, tmp_path, monkeypatch):
    """A register made by the pipeline from both feeds' scenarios."""
    births = births_scenario(tmp_path / "births")
    assert cli.main(["register", "load", str(births.register_csv)]) == 0
    assert births.ingest()() == 0
    rsv = rsv_scenario(tmp_path / "rsv")
    for key, value in rsv.env.items():
        monkeypatch.setenv(key, value)
    assert rsv.ingest()() == 0
    return settings


def _codes(capsys) -> tuple[int, list[str]]:
    code = cli.main(["check"])
    lines = capsys.readouterr().out.splitlines()
    return code, [line.split()[0] for line in lines[:-1]]


def test_green_on_what_the_pipeline_made(made, capsys):
    assert cli.main(["check"]) == 0
    assert capsys.readouterr().out.strip() == "erzl check: all invariants hold"


def _first(session, model, *where):
    return session.scalars(select(model).where(*where)).first()


def _break_outcome(session, _settings):
    session.execute(update(ReceivedRecord).where(ReceivedRecord.seq == 1).values(outcome="lost"))


def _break_counts(session, _settings):
    # a copy's records are referenced by nothing else: one of them goes missing
    row = _first(session, ReceivedFile, ReceivedFile.status == "duplicate")
    session.delete(_first(session, ReceivedRecord, ReceivedRecord.file_id == row.id))


def _break_unfinished(session, _settings):
    _first(session, ReceivedFile).state = "applying"


def _break_running(session, _settings):
    run = _first(session, Run)
    run.status, run.lease_until = "running", datetime.now(UTC) - timedelta(minutes=1)


def _break_two_active(session, _settings):
    policy = _first(session, Policy, Policy.issued_run_id.is_not(None))
    person = session.get(Person, policy.person_id)
    session.add(
        Policy(
            enp=enp_compose("45", 9, person.birth_date, 9999), person_id=person.id,
            status="active", reason="test",
        )
    )  # fmt: skip


def _break_snils(session, _settings):
    a, b = session.scalars(select(Person).where(Person.snils.is_not(None)).limit(2)).all()
    if session.get_bind().dialect.name == "postgresql":
        # the column is unique and 11 characters long: only without its constraint can two
        # persons hold one СНИЛС
        session.execute(text("ALTER TABLE persons DROP CONSTRAINT uq_persons_snils"))
        b.snils = a.snils
    else:  # SQLite keeps any text: the same СНИЛС in its printed form slips past the constraint
        b.snils = f"{a.snils[:3]}-{a.snils[3:6]}-{a.snils[6:9]} {a.snils[9:]}"


def _break_act(session, _settings):
    births = select(ReceivedFile.id).where(ReceivedFile.feed == "zags_births")
    linked = session.scalars(
        select(ReceivedRecord).where(
            ReceivedRecord.file_id.in_(births), ReceivedRecord.person_id.is_not(None)
        )
    ).all()
    other = next(r for r in linked if r.person_id != linked[0].person_id)
    other.record_key = linked[0].record_key


def _break_check_digit(session, _settings):
    person = _first(session, Person, Person.origin == "zags_births")
    enp = enp_compose("45", 8, person.birth_date, 1)
    wrong = enp[:-1] + str((int(enp[-1]) + 1) % 10)
    session.add(Policy(enp=wrong, person_id=person.id, status="lapsed", reason="test"))


def _break_notice(session, settings):
    note = _first(session, Notification)
    path = settings.outbox / "notices" / note.run_id / note.notice_file
    path.unlink()


def _break_archive(session, _settings):
    content = _first(session, FileContent, FileContent.hashed.is_(True))
    path = Path(content.archive_path)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n")


def _break_receipt(session, settings):
    from pipelines.emit_run import receipt_dir

    row = _first(session, ReceivedFile, ReceivedFile.state == "emitted")
    (receipt_dir(session, settings, row) / row.receipt_name).unlink()


def _break_share_ledger(session, _settings):
    # an assignment by share written without the ledger knowing of it
    session.execute(update(Insurer).where(Insurer.share_count > 0).values(share_count=0))


BREAKS = {
    "I01": _break_outcome,
    "I02": _break_counts,
    "I03": _break_unfinished,
    "I04": _break_running,
    "I05": _break_two_active,
    "I06": _break_snils,
    "I07": _break_act,
    "I08": _break_check_digit,
    "I09": _break_notice,
    "I10": _break_archive,
    "I11": _break_receipt,
    "I12": _break_share_ledger,
}


def test_every_invariant_has_a_test():
    from pipelines.check import INVARIANTS

    assert set(BREAKS) == set(INVARIANTS)


@pytest.mark.parametrize("code", sorted(BREAKS))
def test_red_on_a_register_broken_on_purpose(made, capsys, code):
    with db.session_scope(made) as session:
        BREAKS[code](session, made)
    exit_code, codes = _codes(capsys)
    assert exit_code == 1
    assert code in codes


def test_violations_name_ids_never_personal_values(made, capsys):
    with db.session_scope(made) as session:
        _break_snils(session, made)
        _break_outcome(session, made)
        values = {
            v
            for p in session.scalars(select(Person))
            for v in (p.snils, p.last_name, p.first_name, str(p.birth_date))
            if v
        }
    cli.main(["check", "--json"])
    out = capsys.readouterr().out
    assert '"code": "I06"' in out
    assert not [v for v in values if v in out]
