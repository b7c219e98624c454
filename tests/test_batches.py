"""A file applied in many small batches leaves exactly the register, the journal and the
outputs of the same file applied in one piece; and the stages cost a handful of statements per
batch, not a round trip per record."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from pipelines import config, run
from pipelines.demo import zags_gen
from pipelines.enrol import births, contributions
from pipelines.register import db
from tests.conftest import _pg_admin, _pg_url
from tests.faults.conftest import in_child, snapshot
from tests.scenarios import AS_OF, births_scenario, erzl, rsv_scenario


def _births_file(folder):
    """One file with what can interact inside a batch: twins, two versions of one act, a child
    СНИЛС sent twice, a stillbirth, mothers in the register and not."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = zags_gen.random_birth_specs(
        random.Random(5), 40, act_date=AS_OF - timedelta(days=1), twins_rate=0.2,
        stillborn_rate=0.1, child_snils_rate=0.5,
    )  # fmt: skip
    later = dataclasses.replace(specs[3], version="2", first_name="Богдан")
    doubled = dataclasses.replace(specs[9], snils=specs[8].snils or specs[9].snils)
    specs = [*specs[:9], doubled, *specs[10:20], later, *specs[20:]]
    return zags_gen.write_rogdinf(folder / "ROGDINF_batches.xml", specs, request_id="b")


@pytest.fixture
def two_registers(tmp_path, erzl_env):
    """Two fresh registers with the same environment but their own home and database."""
    made, databases = [], []
    for name in ("one", "many"):
        env = {**erzl_env, "ERZL_HOME": str(tmp_path / name / "home")}
        if erzl_env["ERZL_DATABASE_URL"].startswith("sqlite"):
            env["ERZL_DATABASE_URL"] = f"sqlite:///{tmp_path / name / 'register.sqlite3'}"
        else:
            database = f"erzl_b_{uuid.uuid4().hex[:10]}"
            with _pg_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            databases.append(database)
            env["ERZL_DATABASE_URL"] = _pg_url(database)
        made.append(env)
    yield made
    for env in made:
        db.dispose(config.load(env))
    for database in databases:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _run(env, files, monkeypatch, size, register_csv=None, extra_env=(), copy_min=None):
    monkeypatch.setattr(births, "BATCH_RECORDS", size)
    monkeypatch.setattr(contributions, "BATCH", size)
    if copy_min is not None:
        monkeypatch.setattr(db, "COPY_MIN_ROWS", copy_min)
    env = {**env, **dict(extra_env)}
    settings = config.load(env)
    log = settings.home.parent / "child.log"
    settings.home.mkdir(parents=True, exist_ok=True)
    first = ("register", "load", str(register_csv)) if register_csv else ("db", "upgrade")
    assert in_child(erzl(*first), env=env, log=log) == 0, log.read_text()
    ingest = erzl("ingest", "--as-of", AS_OF.isoformat(), *map(str, files))
    assert in_child(ingest, env=env, log=log) in (0, 1), log.read_text()
    return snapshot(settings)


def test_births_in_batches_of_three_equal_births_in_one_batch(tmp_path, two_registers, monkeypatch):
    scenario = births_scenario(tmp_path / "in")
    files = [_births_file(tmp_path / "in"), *scenario.files]
    one, many = two_registers
    whole = _run(one, files, monkeypatch, 10_000, scenario.register_csv)
    pieces = _run(many, files, monkeypatch, 3, scenario.register_csv)
    assert whole["persons"] and whole == pieces


def test_rsv_in_batches_of_two_equals_rsv_in_one_batch(tmp_path, two_registers, monkeypatch):
    scenario = rsv_scenario(tmp_path / "in")
    one, many = two_registers
    whole = _run(one, scenario.files, monkeypatch, 10_000, extra_env=scenario.env)
    pieces = _run(many, scenario.files, monkeypatch, 2, extra_env=scenario.env)
    assert whole["ledger"] and whole == pieces


@pytest.mark.parametrize("feed", ["births", "rsv"])
def test_bulk_writes_equal_writes_by_statement(tmp_path, two_registers, monkeypatch, feed):
    """The bulk paths leave the register that SQLAlchemy's plain INSERTs do: on PostgreSQL
    rows go by COPY (inserts, and upserts through a stage) from db.COPY_MIN_ROWS rows on; on
    SQLite by one driver executemany of ready tuples (keys counted back from the last rowid)."""
    one, many = two_registers
    if feed == "births":
        scenario = births_scenario(tmp_path / "in")
        files, kw = (
            [_births_file(tmp_path / "in"), *scenario.files],
            {"register_csv": scenario.register_csv},
        )
    else:
        scenario = rsv_scenario(tmp_path / "in")
        files, kw = scenario.files, {"extra_env": scenario.env}
    with monkeypatch.context() as plain:
        plain.setattr(db, "_sqlite", lambda _session: False)
        by_statement = _run(one, files, monkeypatch, 10_000, copy_min=10**9, **kw)
    bulk = _run(many, files, monkeypatch, 10_000, copy_min=1, **kw)
    assert by_statement["persons"] and by_statement == bulk


def test_births_cost_a_few_statements_per_batch_not_per_record(settings, tmp_path):
    """The statements a run makes grow with its batches, not with its records: 1 500 more
    records cost fewer than 0.1 statements each (intake, journal, emit and the report are per
    file or per run)."""
    folder = tmp_path / "in"
    folder.mkdir()
    statements: list[int] = []
    event.listen(db.engine(settings), "before_cursor_execute", lambda *a: statements.append(1))

    def ingest(n: int, serial: int) -> int:
        specs = zags_gen.random_birth_specs(
            random.Random(serial), n, act_date=AS_OF - timedelta(days=1), start_serial=serial
        )
        path = zags_gen.write_rogdinf(folder / f"ROGDINF_{n}.xml", specs, request_id=str(n))
        statements.clear()
        files, totals = run.ingest(settings, [path], as_of=AS_OF)
        assert files[0].received == n and totals.enrolled > 0.9 * n
        return len(statements)

    small, large = ingest(100, 1), ingest(1600, 1000)
    assert large - small < 0.1 * (1600 - 100), (small, large)


def test_a_file_is_collected_less_often_and_the_collector_is_put_back(
    settings, tmp_path, monkeypatch
):
    """While a file is applied, the heap from before it is frozen and the youngest generation
    waits for many more allocations; after the file, applied or failed, both are as they were."""
    import gc

    specs = zags_gen.random_birth_specs(random.Random(3), 5, act_date=AS_OF - timedelta(days=1))
    path = zags_gen.write_rogdinf(tmp_path / "ROGDINF_gc.xml", specs, request_id="gc")
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, ...], int]] = []
    apply = births.apply_births

    def watched(*args, **kwargs):
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        if len(seen) == 1:
            raise OSError(28, "No space left on device")  # the first file fails
        return apply(*args, **kwargs)

    monkeypatch.setattr(births, "apply_births", watched)
    with pytest.raises(OSError):
        run.ingest(settings, [path], as_of=AS_OF)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0

    specs = zags_gen.random_birth_specs(
        random.Random(4), 5, act_date=AS_OF - timedelta(days=1), start_serial=100
    )
    path = zags_gen.write_rogdinf(tmp_path / "ROGDINF_gc2.xml", specs, request_id="gc2")
    files, _ = run.ingest(settings, [path], as_of=AS_OF)
    assert [f.status for f in files] == ["accepted"] and len(seen) == 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert all(t[0] == max(before[0], run.FILE_GC_THRESHOLD) and frozen > 0 for t, frozen in seen)
