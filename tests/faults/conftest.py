"""Fault injection made cheap: one warm process forks a child per attempt.

The parent imports everything (Great Expectations included) and validates once, so a forked
child starts in milliseconds with the engine warm. A child runs ``erzl`` in-process with
ERZL_FAULT naming where it must die; the parent then runs the retry the same way, and compares
the register and the journal with a clean run of the same scenario.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from pipelines import config, faults
from pipelines.check import check
from pipelines.register import db
from pipelines.register.models import (
    ContributionMonth,
    ForeignEligibility,
    InsurerAssignment,
    Notification,
    Person,
    PersonHistory,
    Policy,
    ReceivedFile,
    ReceivedRecord,
)
from tests.helpers import receipt
from tests.scenarios import AS_OF, SCENARIOS, births_scenario, erzl, rsv_scenario


def spawn(work: Callable[[], int], *, env: dict[str, str | None], log: Path) -> int:
    """Fork a child that runs ``work()`` with ``env`` applied, its output into ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            out = open(log, "a", encoding="utf-8")  # noqa: SIM115 - the child exits with it open
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            sys.stdout = sys.stderr = out
            for key, value in env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            db.reset_after_fork()
            faults.reset()
            code = work()
        except BaseException:
            code = 71
        finally:
            sys.stdout.flush()
            os._exit(code)
    return pid


def wait(pid: int) -> int:
    """A child's exit code, or -signal when a signal ended it."""
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def in_child(work: Callable[[], int], *, env: dict[str, str | None], log: Path) -> int:
    """``work()`` in a forked child with ``env`` applied; its exit code, or -signal."""
    return wait(spawn(work, env=env, log=log))


def setup_scenario(tmp_path: Path, erzl_env: dict, feed: str, **env_changes):
    """A feed's scenario, its environment and settings, the register loaded (or migrated)."""
    scenario = SCENARIOS[feed](tmp_path / "in")
    env = {**erzl_env, **scenario.env, "ERZL_FAULT": None, **env_changes}
    settings = config.load({k: v for k, v in env.items() if v is not None})
    log = tmp_path / "child.log"
    first = (
        ("register", "load", str(scenario.register_csv)) if scenario.register_csv
        else ("db", "upgrade")
    )  # fmt: skip
    assert in_child(erzl(*first), env=env, log=log) == 0
    return scenario, env, settings, log


@pytest.fixture(scope="session", autouse=True)
def warm_engine(tmp_path_factory):
    """Pay the fixed costs once in the parent — imports, compiled schemas, the validation
    engine — by validating each scenario's files: every child inherits them."""
    from pipelines.parse import rogdzp, rsv, zags
    from pipelines.validate.births import validate_births
    from pipelines.validate.rsv import validate_rsv_persons

    folder = tmp_path_factory.mktemp("warm")
    for path in births_scenario(folder / "births").files[:1]:
        zags.validate_structure(path)
        validate_births(zags.iter_births(path), AS_OF, config.DEFAULT_ZAGS_STATUSES)
    for version in rogdzp.VERSIONS:
        rogdzp.schema(version)
    for path in rsv_scenario(folder / "rsv").files[:1]:
        rsv.validate_structure(path)
        validate_rsv_persons(rsv.iter_persons(path))


# --- the comparison ---------------------------------------------------------------------------


def snapshot(settings: config.Settings) -> dict:
    """The register and the journal without what differs between runs by nature (run ids,
    surrogate ids, timestamps): what a clean run and a killed-and-retried one must share."""
    with db.session_scope(settings) as session:
        enp_of = {p.person_id: p.enp for p in session.scalars(select(Policy))}
        files = session.scalars(select(ReceivedFile).order_by(ReceivedFile.name)).all()
        name_of = {f.id: f.name for f in files}
        out: dict = {"files": [], "records": [], "notifications": []}
        from pipelines.emit_run import acknowledgements, receipt_dir

        for f in files:
            sent = None
            if f.receipt_name:
                path = receipt_dir(session, settings, f) / f.receipt_name
                sent = receipt(path) if path.is_file() else "missing"
            out["files"].append(
                (f.name, f.sha256, f.feed, f.state, f.status, f.codes, f.records_seen,
                 f.counts, name_of.get(f.duplicate_of), f.receipt_name, sent)
            )  # fmt: skip
        # each ROGDZP file's acknowledgements, beside its receipt
        out["acknowledgements"] = sorted(
            (f.name, p.name, p.read_bytes() if p.is_file() else "missing")
            for f in files
            if f.state == "emitted"
            for p, _message in acknowledgements(session, settings, f)
        )
        for r in session.scalars(select(ReceivedRecord)):
            out["records"].append(
                (name_of[r.file_id], r.seq, r.record_key, r.version, r.outcome, r.codes, r.enp)
            )
        out["records"].sort()
        out["persons"] = sorted(
            (enp_of.get(p.id), p.snils, p.last_name, p.first_name, str(p.birth_date), p.sex,
             p.insurer_code, p.origin, p.version, p.working, p.employer_inn)
            for p in session.scalars(select(Person))
        )  # fmt: skip
        out["history"] = sorted(
            (enp_of.get(h.person_id), h.version, h.change, name_of.get(h.file_id))
            for h in session.scalars(select(PersonHistory))
        )
        out["policies"] = sorted(
            (p.enp, p.status, str(p.valid_from), str(p.valid_to), p.reason)
            for p in session.scalars(select(Policy))
        )
        out["assignments"] = sorted(
            (enp_of.get(a.person_id), a.insurer_code, a.basis, str(a.assigned_on))
            for a in session.scalars(select(InsurerAssignment))
        )
        out["notifications"] = sorted(
            (n.enp, n.insurer_code, n.event, n.basis, n.notice_file is not None)
            for n in session.scalars(select(Notification))
        )
        out["ledger"] = sorted(
            (m.payer_inn, m.year, m.quarter, m.snils, m.month, str(m.amount), m.correction_no)
            for m in session.scalars(select(ContributionMonth))
        )
        out["eligibility"] = sorted(
            (e.snils, e.months_count, e.threshold, e.status)
            for e in session.scalars(select(ForeignEligibility))
        )
    return out


def violations(settings: config.Settings) -> list[str]:
    with db.session_scope(settings) as session:
        return [v.line() for v in check(session, settings)]


@pytest.fixture
def scenario_env(erzl_env):
    return erzl_env


@pytest.fixture(scope="session")
def clean_runs(tmp_path_factory, pg_template):
    """Each scenario run once without faults, on a database of the backend under test."""
    from tests.conftest import BACKEND, _pg_admin, _pg_url

    results = {}
    for feed, make in SCENARIOS.items():
        base = tmp_path_factory.mktemp(f"clean-{feed}")
        if BACKEND == "postgresql":
            import uuid

            from sqlalchemy import text

            name = f"erzl_c_{uuid.uuid4().hex[:10]}"
            with _pg_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
            url = _pg_url(name)
        else:
            url = f"sqlite:///{base / 'register.sqlite3'}"
        insurers = base / "insurers.csv"
        insurers.write_text(
            "code,name,share\nA01,Insurer A,0.5\nB02,Insurer B,0.3\nC03,Insurer C,0.2\n", "utf-8"
        )
        scenario = make(base / "in")
        env = {
            "ERZL_HOME": str(base / "home"),
            "ERZL_DATABASE_URL": url,
            "ERZL_FUND_REGION": "45",
            "ERZL_INSURERS": str(insurers),
            "ERZL_SETTLE_SECONDS": "0",
            "ERZL_FAULT": None,
            **scenario.env,
        }
        settings = config.load({k: v for k, v in env.items() if v is not None})
        log = base / "clean.log"
        if scenario.register_csv is not None:
            assert (
                in_child(erzl("register", "load", str(scenario.register_csv)), env=env, log=log)
                == 0
            )
        assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
        results[feed] = (snapshot(settings), violations(settings))
        db.dispose(settings)
    return results
