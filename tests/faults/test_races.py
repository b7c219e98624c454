"""Races between real processes: the database, not Python, keeps one birth act one person.

Each test runs two forked processes against one register at once. A pause at a named point
(``ERZL_FAULT=…:sleep=N``) holds the first one's transaction open while the second works, so
the overlap is certain, not a matter of luck. On PostgreSQL the second blocks on the act's key
until the first commits, then sees it; on SQLite the write lock serialises them.
"""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import time
from datetime import timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pipelines import config
from pipelines.demo import zags_gen
from tests.faults.conftest import (
    SCENARIOS,
    erzl,
    in_child,
    snapshot,
    spawn,
    violations,
    wait,
)
from tests.scenarios import AS_OF

HOLD = "apply.before_commit@1:sleep=3"


def _env(erzl_env) -> tuple[dict, config.Settings]:
    env = {**erzl_env, "ERZL_FAULT": None}
    assert in_child(erzl("db", "upgrade"), env=env, log=_devnull()) == 0
    return env, config.load({k: v for k, v in env.items() if v is not None})


def _devnull():
    from pathlib import Path

    return Path("/dev/null")


def _wait_for_state(settings, state: str, timeout: float = 30) -> None:
    """Poll the journal from a plain reader (no write lock, which would wait for the very
    transaction being watched) until a file is in ``state``."""
    reader = create_engine(settings.database_url, poolclass=NullPool)
    query = text("SELECT count(*) FROM received_files WHERE state = :state")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with reader.connect() as conn:
                if conn.execute(query, {"state": state}).scalar():
                    return
            time.sleep(0.05)
    finally:
        reader.dispose()
    raise AssertionError(f"no file reached {state}")


def _births(tmp_path, request_id: str, name: str):
    specs = zags_gen.random_birth_specs(
        random.Random(5), 3, act_date=AS_OF - timedelta(days=1), stillborn_rate=0,
        partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    specs = [dataclasses.replace(s, snils=None) for s in specs]
    return zags_gen.write_rogdinf(tmp_path / name, specs, request_id=request_id)


def _ingest(*paths):
    return erzl("ingest", "--json", "--as-of", AS_OF.isoformat(), *map(str, paths))


def test_one_act_in_two_files_at_once_enrols_one_child(tmp_path, erzl_env):
    """A re-send with one changed byte, processed by a second run while the first is still
    inside its transaction: one person per act, one ЕНП, one notice — as run one after the
    other."""
    env, settings = _env(erzl_env)
    first = _births(tmp_path, "req-1", "ROGDINF_a.xml")
    resent = _births(tmp_path, "req-2", "ROGDINF_b.xml")
    assert first.read_bytes() != resent.read_bytes()

    a = spawn(_ingest(first), env={**env, "ERZL_FAULT": HOLD}, log=tmp_path / "a.log")
    _wait_for_state(settings, "applying")
    b = spawn(_ingest(resent), env=env, log=tmp_path / "b.log")
    assert (wait(a), wait(b)) == (0, 0), (tmp_path / "b.log").read_text()

    raced = snapshot(settings)
    assert len(raced["persons"]) == 3
    assert len({p[0] for p in raced["persons"]}) == 3  # three distinct ЕНП
    assert [r[4] for r in raced["records"] if r[0] == "ROGDINF_b.xml"] == ["duplicate"] * 3
    assert violations(settings) == []

    # the same two files one after the other, on a register of their own
    sequential_env = {**env, "ERZL_HOME": str(tmp_path / "seq-home")}
    sequential_env["ERZL_DATABASE_URL"] = _second_database(tmp_path, erzl_env)
    seq_settings = config.load({k: v for k, v in sequential_env.items() if v is not None})
    assert in_child(_ingest(first), env=sequential_env, log=tmp_path / "s.log") == 0
    assert in_child(_ingest(resent), env=sequential_env, log=tmp_path / "s.log") == 0
    sequential = snapshot(seq_settings)
    for part in ("persons", "policies", "assignments", "notifications", "records"):
        assert raced[part] == sequential[part], part


def _second_database(tmp_path, erzl_env) -> str:
    from tests.conftest import BACKEND, _pg_admin, _pg_url

    if BACKEND != "postgresql":
        return f"sqlite:///{tmp_path / 'sequential.sqlite3'}"
    import uuid

    from sqlalchemy import text

    name = f"erzl_s_{uuid.uuid4().hex[:10]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return _pg_url(name)


def test_the_same_bytes_at_once_are_applied_once_and_the_copy_reports_every_record(
    tmp_path, erzl_env
):
    env, settings = _env(erzl_env)
    path = _births(tmp_path, "req-1", "ROGDINF_same.xml")
    a = spawn(_ingest(path), env={**env, "ERZL_FAULT": HOLD}, log=tmp_path / "a.log")
    _wait_for_state(settings, "applying")
    b = spawn(_ingest(path), env=env, log=tmp_path / "b.log")
    assert (wait(a), wait(b)) == (0, 0)

    [second, _run] = [json.loads(line) for line in (tmp_path / "b.log").read_text().splitlines()]
    assert second["status"] == "duplicate"
    assert (second["received"], second["duplicate"]) == (3, 3)  # never "duplicate, 0 records"
    assert len(snapshot(settings)["persons"]) == 3
    assert violations(settings) == []


def test_two_recoveries_at_once_finish_a_dead_run_once(tmp_path, erzl_env, clean_runs):
    scenario = SCENARIOS["zags_births"](tmp_path / "in")
    env = {**erzl_env, "ERZL_FAULT": None}
    settings = config.load({k: v for k, v in env.items() if v is not None})
    log = tmp_path / "child.log"
    assert in_child(erzl("register", "load", str(scenario.register_csv)), env=env, log=log) == 0
    died = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": "apply.claimed@1"}, log=log)
    assert died == -signal.SIGKILL

    recover = erzl("recover", "--as-of", AS_OF.isoformat())
    b = spawn(recover, env={**env, "ERZL_FAULT": HOLD}, log=tmp_path / "b.log")
    c = spawn(recover, env=env, log=tmp_path / "c.log")
    assert (wait(b), wait(c)) == (0, 0), (tmp_path / "c.log").read_text()

    assert snapshot(settings) == clean_runs["zags_births"][0]
    assert violations(settings) == []


def test_a_copy_waits_for_its_original_past_the_wait_limit_while_its_run_lives(tmp_path, erzl_env):
    """The original is held (claimed, not yet applied) longer than ERZL_WAIT_SECONDS: the copy
    under another name waits as long as the run holding it lives, then accounts for every
    record — never "in flight, 0 records" with the copy left for someone else."""
    env, settings = _env(erzl_env)
    path = _births(tmp_path, "req-1", "ROGDINF_original.xml")
    copy = tmp_path / "ROGDINF_copy.xml"
    copy.write_bytes(path.read_bytes())
    a = spawn(_ingest(path), env={**env, "ERZL_FAULT": "apply.claimed@1:sleep=5"},
              log=tmp_path / "a.log")  # fmt: skip
    _wait_for_state(settings, "applying")
    b = spawn(_ingest(copy), env={**env, "ERZL_WAIT_SECONDS": "1"}, log=tmp_path / "b.log")
    assert (wait(a), wait(b)) == (0, 0), (tmp_path / "b.log").read_text()

    [second, _run] = [json.loads(line) for line in (tmp_path / "b.log").read_text().splitlines()]
    assert (second["status"], second["received"], second["duplicate"]) == ("duplicate", 3, 3)
    assert violations(settings) == []


def test_a_transaction_that_lost_a_deadlock_is_run_again(erzl_env):
    """PostgreSQL ends one of two crossed transactions with SQLSTATE 40P01: rolled back whole,
    the work is simply done again."""
    from sqlalchemy.exc import OperationalError

    from pipelines.run import _retrying

    class Deadlock(Exception):
        sqlstate = "40P01"

    settings = config.load({k: v for k, v in erzl_env.items() if v is not None})
    tries = []

    def work(session):
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("UPDATE enp_counters …", {}, Deadlock())
        return "done"

    assert _retrying(settings, work, "test") == "done"
    assert len(tries) == 2
