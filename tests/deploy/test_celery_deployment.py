"""A real deployment: Airflow's scheduler, dag-processor, triggerer and API server with the
CeleryExecutor (Redis as broker), PostgreSQL as the metadata database and as the register, and
two Celery workers. Files of several senders are dropped into the inboxes; the test waits for
the DAG runs the triggerer starts, then checks the register against a single-process run of the
same files, the receipts, which worker ran what, and `erzl check`.

One deployment serves every case of this module. It runs on the PostgreSQL pass of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipelines import config
from tests.conftest import BACKEND, REPO, _pg_admin, _pg_url
from tests.scenarios import births_scenario, erzl, rsv_scenario

BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379"
START_TIMEOUT = 240
RUN_TIMEOUT = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def _drop_database(name: str) -> None:
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Deployment:
    """The processes of one Airflow deployment, their environment and their logs."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.logs = base / "logs"
        self.logs.mkdir(parents=True)
        self.meta_db = _create_database("erzl_af_meta")
        self.register_db = _create_database("erzl_af_register")
        self.port = _free_port()
        insurers = base / "insurers.csv"
        insurers.write_text(
            "code,name,share\nA01,Insurer A,0.5\nB02,Insurer B,0.3\nC03,Insurer C,0.2\n", "utf-8"
        )
        meta = _pg_url(self.meta_db)
        # the user the finish task writes each DAG run's note as (erzl_airflow.notes)
        secret = uuid.uuid4().hex
        passwords = base / "passwords.json"
        passwords.write_text(json.dumps({"erzl_notes": secret}), "utf-8")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ERZL_"))},
            "AIRFLOW_HOME": str(base / "airflow"),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            # psycopg 3 serves the async side too (Airflow would otherwise want asyncpg)
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta.replace(
                "postgresql+psycopg://", "postgresql+psycopg_async://"
            ),
            "AIRFLOW__CELERY__BROKER_URL": f"{REDIS}/{1 + uuid.uuid4().int % 14}",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
            # one task at a time per worker, none held in reserve: work that is ready at once
            # (two payers, two feeds) has to spread over both workers
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "erzl_notes:user",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW_CONN_ERZL_AIRFLOW_API": f"http://erzl_notes:{secret}@127.0.0.1:{self.port}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "ERZL_HOME": str(base / "home"),
            "ERZL_DATABASE_URL": _pg_url(self.register_db),
            "ERZL_INSURERS": str(insurers),
            "ERZL_SETTLE_SECONDS": "2",
            "ERZL_FOREIGN_MIN_MONTHS": "3",
            "ERZL_REGISTER_POOL": "erzl_register",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [BIN / "airflow", *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [BIN / "airflow", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text("utf-8", errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        _drop_database(self.meta_db)
        _drop_database(self.register_db)

    def meta(self, query: str) -> list:
        engine = create_engine(_pg_url(self.meta_db))
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query)))
        finally:
            engine.dispose()


if BACKEND == "postgresql":

    @pytest.fixture(scope="module")
    def deployment(tmp_path_factory):
        made = Deployment(tmp_path_factory.mktemp("deployment"))
        try:
            made.airflow("db", "migrate")
            made.airflow("pools", "set", "erzl_register", "4", "writers to the register")
            made.start("api-server", "api-server", "--port", str(made.port))
            made.start("scheduler", "scheduler")
            made.start("dag-processor", "dag-processor")
            made.start("triggerer", "triggerer")
            for n in (1, 2):
                made.start(
                    f"worker{n}", "celery", "worker", "--celery-hostname", f"w{n}@%h",
                    "--concurrency", "1",
                )  # fmt: skip
            _wait_for_dags(made)
            yield made
        finally:
            made.stop()

    def _wait_for_dags(made: Deployment) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        wanted = {"zags_births_ingest", "fns_rsv_ingest"}
        while time.monotonic() < deadline:
            for name, process in made.processes.items():
                assert process.poll() is None, f"{name} exited: {made.log(name)[-3000:]}"
            rows = made.meta("SELECT dag_id FROM dag WHERE NOT is_paused")
            watchers = made.meta("SELECT count(*) FROM asset_watcher")
            if wanted <= {r[0] for r in rows} and watchers and watchers[0][0] >= 2:
                return
            time.sleep(2)
        raise AssertionError("the DAGs were not parsed and unpaused in time")

    def _drop(made: Deployment, feed: str, files: list[Path]) -> None:
        """All at once: written aside, then renamed into the inbox (a rename keeps the mtime,
        so they settle together)."""
        inbox = Path(made.env["ERZL_HOME"]) / "inbox" / feed
        inbox.mkdir(parents=True, exist_ok=True)
        staged = []
        for path in files:
            aside = inbox.parent / f".{path.name}"
            shutil.copyfile(path, aside)
            staged.append(aside)
        for aside in staged:
            os.rename(aside, inbox / aside.name[1:])

    def _wait_for_runs(made: Deployment, dag_id: str, count: int) -> list:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            runs = made.meta(f"SELECT run_id, state FROM dag_run WHERE dag_id = '{dag_id}'")
            if len(runs) >= count and all(state in ("success", "failed") for _, state in runs):
                return runs
            time.sleep(3)
        raise AssertionError(f"{dag_id}: no finished run in time; scheduler log tail: "
                             f"{made.log('scheduler')[-2000:]}")  # fmt: skip

    def _register(made: Deployment, query: str) -> list:
        engine = create_engine(made.env["ERZL_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query)))
        finally:
            engine.dispose()

    def test_idle_inboxes_make_no_dag_runs(deployment):
        time.sleep(25)  # two looks of the triggerer at empty inboxes, and then some
        runs = deployment.meta(
            "SELECT dag_id, run_id FROM dag_run WHERE dag_id IN "
            "('zags_births_ingest', 'fns_rsv_ingest')"
        )
        assert runs == []

    def test_drops_of_several_senders_are_processed_by_two_workers(deployment, tmp_path):
        births = births_scenario(tmp_path / "births")
        rsv = rsv_scenario(tmp_path / "rsv")
        env = {k: v for k, v in deployment.env.items() if k.startswith("ERZL_")}
        settings = config.load(env)
        load = subprocess.run(
            [BIN / "erzl", "register", "load", str(births.register_csv)],
            env=deployment.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert load.returncode == 0, load.stderr

        _drop(deployment, "zags_births", births.files)
        _drop(deployment, "fns_rsv", rsv.files)
        births_runs = _wait_for_runs(deployment, "zags_births_ingest", 1)
        rsv_runs = _wait_for_runs(deployment, "fns_rsv_ingest", 1)

        # one drop, one DAG run each, all green
        assert [state for _, state in births_runs] == ["success"]
        assert [state for _, state in rsv_runs] == ["success"]
        # one mapped process task per file (a correction after its report); both workers worked
        mapped = deployment.meta(
            "SELECT count(*) FROM task_instance WHERE dag_id = 'fns_rsv_ingest' "
            "AND task_id = 'process' AND state = 'success'"
        )[0][0]
        assert mapped == len(rsv.files) == 3
        worked = [n for n in (1, 2) if "succeeded" in deployment.log(f"worker{n}")]
        assert worked == [1, 2], "one worker did all the work"
        # each run's note says what it did
        notes = dict(
            deployment.meta(
                "SELECT r.dag_id, n.content FROM dag_run_note n JOIN dag_run r "
                "ON r.id = n.dag_run_id"
            )
        )
        assert notes["fns_rsv_ingest"].startswith("3 file(s), ")
        assert notes["zags_births_ingest"].startswith("3 file(s), ")
        assert "enrolled" in notes["fns_rsv_ingest"]

        # the register equals one process's run of the same files
        from tests.faults.conftest import in_child, snapshot, violations

        assert violations(settings) == []
        single_db = _create_database("erzl_single")
        try:
            single_env = {
                **env, "ERZL_HOME": str(tmp_path / "single"),
                "ERZL_DATABASE_URL": _pg_url(single_db), "ERZL_FAULT": None,
            }  # fmt: skip
            single = config.load({k: v for k, v in single_env.items() if v is not None})
            log = tmp_path / "single.log"
            loader = erzl("register", "load", str(births.register_csv))
            assert in_child(loader, env=single_env, log=log) == 0
            # the same processing date as the DAG runs had (their logical date, in Moscow)
            ingest_runs = "SELECT as_of FROM runs WHERE id LIKE '%\\_ingest\\_\\_%'"
            [as_of] = {row[0] for row in _register(deployment, ingest_runs)}
            for files in (births.files, rsv.files):
                ingest = erzl("ingest", "--as-of", str(as_of), *map(str, files))
                assert in_child(ingest, env=single_env, log=log) == 0, log.read_text()
            deployed, alone = snapshot(settings), snapshot(single)
            for part in ("persons", "policies", "assignments", "notifications", "ledger",
                         "eligibility", "records", "files"):  # fmt: skip
                assert deployed[part] == alone[part], part
        finally:
            _drop_database(single_db)
