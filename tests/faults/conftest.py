"""Fault injection made cheap: one warm process forks a child per attempt.

The parent imports everything (Great Expectations included) and validates once, so a forked
child starts in milliseconds with the engine warm. A child runs ``erzl`` in-process with
ERZL_FAULT naming where it must die; the parent then runs the retry the same way, and compares
the register and the journal with a clean run of the same scenario.
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from pipelines import cli, config, faults
from pipelines.check import check
from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_compose
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

AS_OF = date(2026, 3, 2)


def in_child(work: Callable[[], int], *, env: dict[str, str | None], log: Path) -> int:
    """``work()`` in a forked child with ``env`` applied; its exit code, or -signal."""
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
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def erzl(*argv: str) -> Callable[[], int]:
    return lambda: cli.main(list(argv))


@pytest.fixture(scope="session", autouse=True)
def warm_engine(tmp_path_factory):
    """Pay the fixed costs once in the parent — imports, compiled schemas, the validation
    engine — by validating each scenario's files: every child inherits them."""
    from pipelines.parse import rsv, zags
    from pipelines.validate.births import validate_births
    from pipelines.validate.rsv import validate_rsv_persons

    folder = tmp_path_factory.mktemp("warm")
    for path in births_scenario(folder / "births").files[:1]:
        zags.validate_structure(path)
        validate_births(zags.iter_births(path), AS_OF, config.DEFAULT_ZAGS_STATUSES)
    for path in rsv_scenario(folder / "rsv").files[:1]:
        rsv.validate_structure(path)
        validate_rsv_persons(rsv.iter_persons(path))


# --- scenarios --------------------------------------------------------------------------------


@dataclasses.dataclass
class Scenario:
    """Files to ingest as one run, and what to load into the register first."""

    feed: str
    files: list[Path]
    register_csv: Path | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    def ingest(self) -> Callable[[], int]:
        return erzl("ingest", "--as-of", AS_OF.isoformat(), *map(str, self.files))


def births_scenario(folder: Path) -> Scenario:
    """Two birth files and a re-sent copy: enrolments with the mother's insurer and by share,
    a stillbirth, a held record, a later version of an act of the first file."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = zags_gen.random_birth_specs(
        random.Random(11), 6, act_date=AS_OF - timedelta(days=1), stillborn_rate=0,
        partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    specs = [dataclasses.replace(s, snils=None) for s in specs]
    specs[1] = dataclasses.replace(specs[1], stillborn=True)
    specs[2] = dataclasses.replace(specs[2], status_code="9999")  # held for review
    first = zags_gen.write_rogdinf(folder / "ROGDINF_first.xml", specs[:4], request_id="r-1")
    corrected = dataclasses.replace(specs[0], version="2", first_name="Святослав")
    second = zags_gen.write_rogdinf(
        folder / "ROGDINF_second.xml", [corrected, specs[4], specs[5]], request_id="r-2"
    )
    copy = folder / "ROGDINF_first_resent.xml"
    copy.write_bytes(first.read_bytes())
    mother = specs[0].mother
    register_csv = folder / "register.csv"
    register_csv.write_text(
        "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status\n"
        f"{enp_compose('45', 0, mother.birth_date, 1)},{mother.snils},{mother.last_name},"
        f"{mother.first_name},{mother.middle_name},{mother.birth_date},2,C03,active\n",
        "utf-8",
    )
    return Scenario("zags_births", [first, second, copy], register_csv)


def rsv_scenario(folder: Path) -> Scenario:
    """Three reports of two payers — a primary, its correction, another payer's — in which
    foreign workers reach a (lowered) threshold at the end of the run."""
    folder.mkdir(parents=True, exist_ok=True)
    pay = Decimal("50000.00")
    quarter = ((1, "ВПНР", pay), (2, "ВПНР", pay), (3, "ВПНР", pay))

    def worker(n: int, **kw) -> rsv_gen.RsvPersonSpec:
        return rsv_gen.RsvPersonSpec(
            snils=rsv_gen.make_snils(300_000_000 + n), last_name="Каримов", first_name="Алишер",
            birth_date=date(1990, 5, 17), citizenship="860", document_kind="10",
            document_number=f"FA{2000000 + n}", months=kw.pop("months", quarter), **kw,
        )  # fmt: skip

    def report(payer, persons, correction=0) -> rsv_gen.RsvReportSpec:
        name, inn, kpp = payer
        return rsv_gen.RsvReportSpec(
            payer_name=name, payer_inn=inn, payer_kpp=kpp, year=2025, period_code="34",
            correction_no=correction, persons=persons,
            document_date=date(2026, 1, 20) + timedelta(days=correction),
        )  # fmt: skip

    acme = ("ООО «Акме»", rsv_gen.make_org_inn("770123456"), "770101001")
    beta = ("АО «Бета»", rsv_gen.make_org_inn("500100732"), "500101001")
    resident = dataclasses.replace(
        worker(4), citizenship="643", months=((1, "НР", pay), (2, "НР", pay), (3, "НР", pay))
    )
    files = [
        rsv_gen.write_rsv(folder, report(acme, [worker(1), worker(2), resident])),
        rsv_gen.write_rsv(folder, report(acme, [worker(2, annulled=True)], correction=1)),
        rsv_gen.write_rsv(folder, report(beta, [worker(3), worker(5)])),
    ]
    return Scenario("fns_rsv", files, env={"ERZL_FOREIGN_MIN_MONTHS": "3"})


SCENARIOS = {"zags_births": births_scenario, "fns_rsv": rsv_scenario}


# --- the comparison ---------------------------------------------------------------------------


def snapshot(settings: config.Settings) -> dict:
    """The register and the journal without what differs between runs by nature (run ids,
    surrogate ids, timestamps): what a clean run and a killed-and-retried one must share."""
    with db.session_scope(settings) as session:
        enp_of = {p.person_id: p.enp for p in session.scalars(select(Policy))}
        files = session.scalars(select(ReceivedFile).order_by(ReceivedFile.name)).all()
        name_of = {f.id: f.name for f in files}
        out: dict = {"files": [], "records": [], "notifications": []}
        from pipelines.emit_run import receipt_dir

        for f in files:
            sent = None
            if f.receipt_name:
                path = receipt_dir(session, settings, f) / f.receipt_name
                sent = receipt(path) if path.is_file() else "missing"
            out["files"].append(
                (f.name, f.sha256, f.feed, f.state, f.status, f.codes, f.records_seen,
                 f.counts, name_of.get(f.duplicate_of), f.receipt_name, sent)
            )  # fmt: skip
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
