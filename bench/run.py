"""The benchmark (``make bench``): the whole pipeline on generated files, each stage beside the
parse floor of the same file, on SQLite and PostgreSQL. Figures are printed, never asserted.

    .venv/bin/python bench/run.py [--preset quick|full] [--backend sqlite|postgresql|both]
                                  [--births N,..] [--register M,..] [--rsv N,..] [--small K]
                                  [--cases births,rsv,small,register] [--json PATH]

Cases: births (ROGDINF) into a pre-loaded register, one big РСВ report, many small РСВ reports,
and the register load itself. Every measurement runs in a fresh process, so its peak RSS is its
own; docs/benchmarks.md says what each figure means. Exit status 0 unless a case crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _path in (str(REPO), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@localhost:5432/postgres"
PRESETS = {
    # finishes in about ten minutes on a 2-core machine
    "quick": {"births": [10_000], "register": [100_000], "rsv": [100_000], "small": 138},
    # the sizes of the issue "Throughput near the machine's limit"
    "full": {
        "births": [10_000, 100_000, 1_000_000],
        "register": [1_000_000, 10_000_000],
        "rsv": [100_000, 1_000_000],
        "small": 138,
    },
}
CASES = ("births", "rsv", "small", "register")
FILE_STAGES = ("floor", "schema", "parse", "validate")


# --- sizes and names --------------------------------------------------------------------------


def size_label(n: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if n >= scale and n % (scale // 10) == 0:
            return f"{n / scale:g}{unit}"
    return str(n)


def sizes(text: str) -> list[int]:
    values = []
    for item in text.split(","):
        item = item.strip().lower().replace("_", "")
        scale = {"k": 1_000, "m": 1_000_000}.get(item[-1:], 1)
        values.append(int(float(item.rstrip("km")) * scale))
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("sizes are positive")
    return values


def peak_rss_mib() -> float:
    """This process' peak resident set, in MiB.

    On Linux the high-water mark of this process' own memory (VmHWM). Not ru_maxrss: Linux
    carries that over from the parent a process was forked from, so every job would report at
    least the harness' own peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


# --- the measured process ---------------------------------------------------------------------


def child_main(spec_path: Path) -> int:
    """Run one job of the spec file in this (fresh) process; write its figures as JSON."""
    job = json.loads(spec_path.read_text("utf-8"))
    result = JOBS[job["job"]](job)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(job["result"]).write_text(json.dumps(result), "utf-8")
    return 0


def _paths(job: dict) -> list[Path]:
    return [Path(p) for p in job["paths"]]


def _settings(job: dict):
    from pipelines import config

    return config.load(job["env"])


def _timed(work) -> tuple[object, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def job_floor(job: dict) -> dict:
    import floors

    count, seconds = _timed(lambda: floors.FLOORS[job["feed"]](_paths(job)))
    return {"records": count, "seconds": seconds}


def _reader(feed: str):
    if feed == "births":
        from pipelines.parse import zags

        return zags.validate_structure, zags.iter_births, zags.schema
    from pipelines.parse import rsv

    return rsv.validate_structure, rsv.iter_persons, rsv.schema


def job_schema(job: dict) -> dict:
    validate_structure, _, schema = _reader(job["feed"])
    _, warmup = _timed(schema)  # compiled once per process, as in a run

    def work() -> int:
        for path in _paths(job):
            validate_structure(path)
        return job["records"]

    count, seconds = _timed(work)
    return {"records": count, "seconds": seconds, "warmup_seconds": warmup}


def job_parse(job: dict) -> dict:
    _, iterate, _ = _reader(job["feed"])
    count, seconds = _timed(lambda: sum(1 for p in _paths(job) for _ in iterate(p)))
    return {"records": count, "seconds": seconds}


def job_validate(job: dict) -> dict:
    """The suite over the parser's records, as a run calls it; the parser's own time is taken
    out (it is the parse stage's)."""
    import probes

    from pipelines.validate.suite import get_context

    _, warmup = _timed(get_context)
    _, iterate, _ = _reader(job["feed"])
    clock = probes.Clock()
    parse = clock.iterator("parse", iterate)
    codes = 0
    if job["feed"] == "births":
        from pipelines.validate.births import Bounds, validate_births

        settings = _settings(job)
        clock.restart()
        for path in _paths(job):
            clock.enter("suite")
            found = validate_births(
                parse(path), _as_of(), settings.zags_statuses, bounds=Bounds.of(settings)
            )
            clock.leave()
            codes += len(found)
    else:
        from pipelines.parse.rsv import read_header
        from pipelines.validate.rsv import validate_rsv_header, validate_rsv_persons

        clock.restart()
        for path in _paths(job):
            clock.enter("suite")
            validate_rsv_header(read_header(path))
            codes += len(validate_rsv_persons(parse(path)))
            clock.leave()
    clock.stop()
    return {
        "records": job["records"],
        "seconds": clock.seconds["suite"],
        "warmup_seconds": warmup,
        "extra": {"records_with_codes": codes, "parse_seconds": clock.seconds["parse"]},
    }


def _as_of():
    import inputs

    return inputs.AS_OF


def job_official(job: dict) -> dict:
    """Streaming validation against the official schema (a check of the generator; untimed)."""
    import floors
    from lxml import etree

    base = Path(os.environ.get("ERZL_SHARED_REFERENCE") or REPO.parent / "shared" / "reference")
    xsd = base / (
        "zags-rogdinf-4.0.1/zags-rogdinf-ru-root.xsd"
        if job["feed"] == "births"
        else "fns-rsv-5.08/NO_RASCHSV_1_162_00_05_08_02.xsd"
    )
    if not xsd.is_file():
        return {"official_schema": f"not checked: {xsd} not found (ERZL_SHARED_REFERENCE)"}
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    tag = floors._BIRTH_RECORD if job["feed"] == "births" else "ПерсСвСтрахЛиц"
    for path in _paths(job):
        try:
            for _event, elem in etree.iterparse(
                str(path), events=("end",), tag=tag, schema=schema, **floors._OPTIONS
            ):
                floors._drop(elem)
        except etree.XMLSyntaxError as exc:
            return {"official_schema": f"INVALID: {path.name}: {str(exc)[:300]}"}
    return {"official_schema": f"valid ({len(job['paths'])} file(s), {xsd.name})"}


def listen_statements(settings, on_statement) -> None:
    """Call ``on_statement`` for every statement sent to the register's database: what
    SQLAlchemy executes (its ``before_cursor_execute`` event, once per executemany batch), and
    a COPY sent on psycopg's own connection, which SQLAlchemy never sees."""
    from sqlalchemy import event

    from pipelines.register import db

    event.listen(db.engine(settings), "before_cursor_execute", on_statement)
    try:
        import psycopg
    except ImportError:
        return
    copy = psycopg.Cursor.copy

    def counted_copy(self, *args, **kwargs):
        on_statement()
        return copy(self, *args, **kwargs)

    psycopg.Cursor.copy = counted_copy


def _count_statements(settings) -> list[int]:
    count = [0]

    def on_statement(*_args) -> None:
        count[0] += 1

    listen_statements(settings, on_statement)
    return count


def job_load(job: dict) -> dict:
    """``erzl register load`` into a fresh database, through its public function."""
    import inspect

    from sqlalchemy import text

    from pipelines.enrol.register_load import load_register
    from pipelines.register import db
    from pipelines.run import ensure_schema

    settings = _settings(job)
    path = _paths(job)[0]
    _, warmup = _timed(lambda: ensure_schema(settings))
    count = _count_statements(settings)

    def load():
        # the load takes a session today; should it come to take the settings, so be it
        if next(iter(inspect.signature(load_register).parameters)) == "settings":
            return load_register(settings, path)
        with db.session_scope(settings) as session:
            return load_register(session, path)

    counts, seconds = _timed(load)
    statements = count[0]
    started = time.perf_counter()
    engine = db.engine(settings)  # untimed: the register as a run will find it
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))  # what autovacuum does to a table soon after a load
            conn.commit()
    else:
        raw = engine.raw_connection()  # outside a transaction: the copy is one file
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    db.dispose(settings)
    return {
        "records": job["records"],
        "seconds": seconds,
        "statements": statements,
        "warmup_seconds": warmup,
        "extra": {
            "counts": dict(counts or {}),
            "after_load_seconds": time.perf_counter() - started,
        },
    }


def job_e2e(job: dict) -> dict:
    """``run.ingest`` of the case's files on a copy of the pre-loaded register, its stages
    clocked from outside (probes.py)."""
    import probes

    from pipelines import run
    from pipelines.parse import rsv, zags
    from pipelines.register import db
    from pipelines.validate.suite import get_context

    settings = _settings(job)

    def warm() -> None:  # the fixed costs of a process, paid once and kept warm
        run.ensure_schema(settings)
        get_context()
        zags.schema() if job["feed"] == "births" else rsv.schema()

    _, warmup = _timed(warm)
    clock = probes.Clock()
    clock.install()
    listen_statements(settings, clock.on_statement)
    clock.restart()
    files, summary = run.ingest(settings, _paths(job), as_of=_as_of())
    seconds = clock.stop()
    clock.uninstall()
    db.dispose(settings)
    statuses: dict[str, int] = {}
    for one in files:
        statuses[one.status] = statuses.get(one.status, 0) + 1
    return {
        "records": job["records"],
        "seconds": seconds,
        "statements": sum(clock.statements.values()),
        "warmup_seconds": warmup,
        "substages": {
            name: {"seconds": clock.seconds.get(name, 0.0), "statements": clock.statements[name]}
            for name in probes.STAGES
        },
        "hooks_missing": clock.missing,
        "extra": {
            "file_statuses": statuses,
            "run": {
                k: getattr(summary, k)
                for k in (
                    "files",
                    "received",
                    "accepted",
                    "rejected",
                    "review",
                    "duplicate",
                    "not_applicable",
                    "enrolled",
                    "policies_issued",
                )
            },
            "notices": len(summary.notices),
        },
    }


JOBS = {
    "floor": job_floor,
    "schema": job_schema,
    "parse": job_parse,
    "validate": job_validate,
    "official": job_official,
    "load": job_load,
    "e2e": job_e2e,
}


# --- the harness ------------------------------------------------------------------------------


class Crashed(RuntimeError):
    pass


_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b")


@dataclass
class Case:
    kind: str  # births, rsv, small, register
    label: str
    records: int
    feed: str  # the floor and parser: births, rsv, register
    register: int | None = None  # the pre-loaded register it runs against (persons)
    paths: list[Path] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    result: dict = field(default_factory=dict)


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir).resolve()
        self.logs = Path(args.json).resolve().parent / "logs"
        self.jobs = 0
        self.crashes: list[str] = []
        self.pg_url = args.pg_url
        self.tag = f"{os.getpid()}"

    def say(self, line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    # --- processes ----------------------------------------------------------------------------

    def child(self, job: dict, name: str) -> dict:
        self.jobs += 1
        spec = self.work / "jobs" / f"{self.jobs:03d}.json"
        spec.parent.mkdir(parents=True, exist_ok=True)
        job = {**job, "result": str(spec.with_suffix(".result.json"))}
        spec.write_text(json.dumps(job, default=str), "utf-8")
        log = self.logs / f"{self.jobs:03d}-{name.replace(' ', '_').replace('/', '_')}.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ERZL_")
            or k.startswith("ERZL_BENCH")
            or k == "ERZL_SHARED_REFERENCE"
        }
        env["GX_ANALYTICS_ENABLED"] = "False"
        with log.open("wb") as out:
            code = subprocess.call(
                [sys.executable, str(Path(__file__).resolve()), "--child", str(spec)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )
        result = Path(job["result"])
        if code != 0 or not result.is_file():
            lines = [ln for ln in log.read_text("utf-8", "replace").splitlines() if ln.strip()]
            # the exception's own line, not the hint SQLAlchemy prints after it
            errors = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
            last = (errors or lines or [f"exit status {code}"])[-1].strip()
            raise Crashed(f"{last[:300]} (log: {log})")
        return json.loads(result.read_text("utf-8"))

    # --- databases ----------------------------------------------------------------------------

    def _admin(self):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(self.pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def pg_version(self) -> str | None:
        try:
            engine = self._admin()
            with engine.connect() as conn:
                from sqlalchemy import text

                return conn.execute(text("SHOW server_version")).scalar()
        except Exception as exc:  # reported, never raised: the machine may have no server
            self.pg_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            return None

    def pg_database(self, name: str, template: str | None = None) -> str:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        engine.dispose()
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def pg_drop(self, name: str) -> None:
        from sqlalchemy import text

        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    def database(self, backend: str, name: str, template: str | None = None) -> tuple[str, str]:
        """A fresh database (a copy of ``template`` when given): its URL and a handle to drop."""
        if backend == "postgresql":
            db_name = f"erzl_bench_{self.tag}_{name}"
            template_name = f"erzl_bench_{self.tag}_{template}" if template else None
            return self.pg_database(db_name, template_name), db_name
        path = self.work / "db" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if template:
            shutil.copyfile(self.work / "db" / f"{template}.sqlite3", path)
        return f"sqlite:///{path}", str(path)

    def drop(self, backend: str, handle: str) -> None:
        if backend == "postgresql":
            self.pg_drop(handle)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{handle}{suffix}").unlink(missing_ok=True)

    # --- inputs -------------------------------------------------------------------------------

    def make_inputs(self, cases: list[Case]) -> None:
        import inputs

        folder = self.work / "inputs"
        folder.mkdir(parents=True, exist_ok=True)
        self.insurers = inputs.write_insurers(folder / "insurers.csv")
        max_births = {}
        for case in cases:
            if case.kind == "births":
                max_births[case.register] = max(max_births.get(case.register, 0), case.records)
        rsv_max = max((c.records for c in cases if c.kind == "rsv"), default=0)
        for case in cases:
            started = time.perf_counter()
            if case.kind == "births":
                case.paths = [
                    inputs.write_births(folder / f"births-{case.records}.xml", case.records)
                ]
            elif case.kind == "rsv":
                case.paths = [inputs.write_big_rsv(folder / f"rsv-{case.records}", case.records)]
            elif case.kind == "small":
                case.paths = inputs.write_small_rsv(
                    folder / f"rsv-small-{case.records}", case.records
                )
            else:
                made = inputs.write_register(
                    folder / f"register-{case.records}.csv",
                    case.records,
                    births=max_births.get(case.records, 0),
                    rsv_persons=rsv_max if case.records == self.base_register else 0,
                )
                case.paths = [made.path]
                case.result["register"] = {
                    "mothers": made.mothers,
                    "rsv_workers": made.workers,
                    "others": made.others,
                }
            if case.kind == "small":  # records: the person blocks of all the files
                from pipelines.parse.rsv import iter_persons

                case.records = sum(1 for p in case.paths for _ in iter_persons(p))
            case.result["input"] = {
                "files": len(case.paths),
                "bytes": sum(p.stat().st_size for p in case.paths),
                "generated_seconds": round(time.perf_counter() - started, 2),
            }
            self.say(
                f"generated {case.label}: {len(case.paths)} file(s), "
                f"{case.result['input']['bytes'] / 2**20:,.1f} MiB"
            )

    # --- running ------------------------------------------------------------------------------

    def case_env(self, case: Case, home: Path, url: str) -> dict:
        return {
            "ERZL_HOME": str(home),
            "ERZL_DATABASE_URL": url,
            "ERZL_FUND_REGION": "45",
            "ERZL_INSURERS": str(self.insurers),
            "ERZL_SETTLE_SECONDS": "0",
            **case.env,
        }

    def file_stages(self, case: Case) -> None:
        """The stages that do not touch the database, once per file, each in its own process."""
        case.result["file_stages"] = {}
        jobs = ("floor",) if case.kind == "register" else (*FILE_STAGES, "official")
        for stage in jobs:
            if stage == "official" and self.args.no_official_check:
                continue
            self.say(f"{case.label}: {stage}")
            job = {
                "job": stage,
                "feed": case.feed,
                "paths": [str(p) for p in case.paths],
                "records": case.records,
                "env": self.case_env(case, self.work / "home-files", "sqlite://"),
            }
            try:
                got = self.child(job, f"{case.label}-{stage}")
            except Crashed as exc:
                self.crash(case, "-", stage, str(exc))
                return
            if stage == "official":
                case.result["official_schema"] = got["official_schema"]
                if got["official_schema"].startswith("INVALID"):
                    self.say(f"{case.label}: the official schema refuses a generated file")
            else:
                case.result["file_stages"][stage] = got

    def crash(self, case: Case, backend: str, stage: str, error: str) -> None:
        line = f"bench: case {case.label!r} [{backend}] crashed in {stage}: {error}"
        self.crashes.append(line)
        case.result.setdefault("crashed", []).append(
            {"backend": backend, "stage": stage, "error": error}
        )
        self.say(line)

    def backend(self, backend: str, cases: list[Case]) -> None:
        loads = [c for c in cases if c.kind == "register"]
        for load in sorted(loads, key=lambda c: c.records):
            template = f"register_{load.records}"
            url, handle = self.database(backend, template)
            self.say(f"{load.label} [{backend}]")
            home = self.work / backend / template
            job = {
                "job": "load",
                "feed": "register",
                "paths": [str(p) for p in load.paths],
                "records": load.records,
                "env": self.case_env(load, home, url),
            }
            try:
                load.result.setdefault("backends", {})[backend] = self.child(
                    job, f"{load.label}-{backend}"
                )
                loaded = True
            except Crashed as exc:
                self.crash(load, backend, "load", str(exc))
                loaded = False
            try:
                for case in cases:
                    if case.kind == "register" or case.register != load.records:
                        continue
                    if not loaded:
                        self.crash(case, backend, "e2e", "its register did not load")
                        continue
                    self.e2e(backend, case, template)
            finally:
                self.drop(backend, handle)
                shutil.rmtree(home, ignore_errors=True)

    def e2e(self, backend: str, case: Case, template: str) -> None:
        name = f"{case.kind}_{case.records}"
        url, handle = self.database(backend, name, template)
        home = self.work / backend / name
        shutil.rmtree(home, ignore_errors=True)
        self.say(f"{case.label} [{backend}]: end to end")
        job = {
            "job": "e2e",
            "feed": case.feed,
            "paths": [str(p) for p in case.paths],
            "records": case.records,
            "env": self.case_env(case, home, url),
        }
        try:
            got = self.child(job, f"{case.label}-{backend}-e2e")
            case.result.setdefault("backends", {})[backend] = got
            self.say(
                f"{case.label} [{backend}]: {got['seconds']:,.1f} s, "
                f"{case.records / got['seconds']:,.0f} records/s"
            )
        except Crashed as exc:
            self.crash(case, backend, "e2e", str(exc))
        finally:
            self.drop(backend, handle)
            shutil.rmtree(home, ignore_errors=True)

    def plan(self) -> list[Case]:
        args = self.args
        preset = PRESETS[args.preset]
        births = args.births or preset["births"]
        registers = args.register or preset["register"]
        rsv = args.rsv or preset["rsv"]
        small = args.small or preset["small"]
        wanted = set(args.cases)
        self.base_register = min(registers)
        cases: list[Case] = []
        if "births" in wanted:
            for m in registers:
                for n in births:
                    label = f"births {size_label(n)} into {size_label(m)}"
                    cases.append(Case("births", label, n, "births", register=m))
        if "rsv" in wanted:
            for n in rsv:
                label = f"РСВ {size_label(n)} persons"
                cases.append(Case("rsv", label, n, "rsv", register=self.base_register))
        if "small" in wanted:
            # enough contribution months accumulate over the years of reports for some
            # foreign workers to be enrolled at the end of the run
            cases.append(
                Case(
                    "small",
                    f"РСВ {small} small files",
                    small,
                    "rsv",
                    register=self.base_register,
                    env={"ERZL_FOREIGN_MIN_MONTHS": "36"},
                )
            )
        needed = {c.register for c in cases} | (set(registers) if "register" in wanted else set())
        for m in sorted(needed):
            cases.append(Case("register", f"register load {size_label(m)}", m, "register"))
        return cases


# --- figures ----------------------------------------------------------------------------------


def _row(case: Case, backend: str, stage: str, got: dict, floor_seconds: float | None, **kw):
    records, seconds = case.records, got["seconds"]
    statements = got.get("statements")
    rate = records / seconds if seconds > 0 else None
    floor_rate = records / floor_seconds if floor_seconds else None
    return {
        "case": case.label,
        "backend": backend,
        "stage": stage,
        "records": records,
        "seconds": seconds,
        "records_per_s": rate,
        "floor_records_per_s": floor_rate,
        "share_of_floor": (floor_seconds / seconds) if floor_seconds and seconds > 0 else None,
        "share_of_e2e": kw.get("share_of_e2e"),
        "peak_rss_mib": got.get("peak_rss_mib"),
        "sql_statements": statements,
        "sql_per_record": statements / records if statements is not None and records else None,
    }


def rows_of(case: Case) -> list[dict]:
    rows = []
    stages = case.result.get("file_stages", {})
    floor = stages.get("floor", {}).get("seconds")
    for stage in FILE_STAGES:
        if stage in stages:
            rows.append(_row(case, "-", stage, stages[stage], floor))
    for backend, got in case.result.get("backends", {}).items():
        stage = "load" if case.kind == "register" else "e2e"
        rows.append(_row(case, backend, stage, got, floor))
        total = got["seconds"]
        for name, sub in got.get("substages", {}).items():
            if sub["seconds"] < 0.0005 and not sub["statements"]:
                continue
            part = {"seconds": sub["seconds"], "statements": sub["statements"]}
            share = sub["seconds"] / total if total else None
            rows.append(_row(case, backend, f"  {name}", part, floor, share_of_e2e=share))
    return rows


def _fmt(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "s":
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if kind == "%":
        return f"{100 * value:.1f} %" if value < 10 else f"{100 * value:,.0f} %"
    if kind == "f":  # statements per record: a bulk load sends a few per 10 000 rows
        return f"{value:,.2f}" if value >= 0.01 or value == 0 else f"{value:.4f}"
    return str(value)


COLUMNS = (
    ("case", "case", "str", "<"),
    ("backend", "backend", "str", "<"),
    ("stage", "stage", "str", "<"),
    ("records", "records", "int", ">"),
    ("seconds", "seconds", "s", ">"),
    ("records_per_s", "records/s", "int", ">"),
    ("floor_records_per_s", "floor rec/s", "int", ">"),
    ("share_of_floor", "of floor", "%", ">"),
    ("share_of_e2e", "of e2e", "%", ">"),
    ("peak_rss_mib", "peak RSS MiB", "int", ">"),
    ("sql_per_record", "SQL/record", "f", ">"),
)


def table(rows: list[dict]) -> str:
    cells = [[title for _, title, _, _ in COLUMNS]]
    previous = None
    for row in rows:
        line = [_fmt(row[key], kind) for key, _, kind, _ in COLUMNS]
        if previous == row["case"]:
            line[0] = ""
        previous = row["case"]
        cells.append(line)
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(cells):
        out.append(
            "  ".join(
                f"{c:{align}{w}}"
                for c, w, (_, _, _, align) in zip(line, widths, COLUMNS, strict=True)
            ).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def machine(harness: Harness, postgresql: bool) -> dict:
    import sqlite3

    import lxml.etree
    import sqlalchemy

    info: dict = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.splitlines()
            if ln.startswith("model name")
        ]
        info["cpu_model"] = models[0] if models else platform.processor()
        info["cpu_count"] = len(models) or os.cpu_count()
    except OSError:
        info["cpu_model"], info["cpu_count"] = platform.processor(), os.cpu_count()
    try:
        meminfo = dict(
            ln.split(":", 1) for ln in Path("/proc/meminfo").read_text().splitlines() if ":" in ln
        )
        info["memory_gib"] = round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1)
    except (OSError, KeyError, ValueError):
        info["memory_gib"] = None
    info["load_average_at_start"] = list(os.getloadavg())
    info["sqlite"] = sqlite3.sqlite_version
    info["postgresql"] = harness.pg_version() if postgresql else None
    info["sqlalchemy"] = sqlalchemy.__version__
    info["lxml"] = ".".join(map(str, lxml.etree.LXML_VERSION))
    info["libxml2"] = ".".join(map(str, lxml.etree.LIBXML_VERSION))
    git = shutil.which("git")
    commit = (
        subprocess.run(
            [git, "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        if git
        else None
    )
    info["commit"] = (commit.stdout.strip() or None) if commit else None
    changed = (
        subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if git
        else None
    )
    # files of the checkout changed since that commit: the figures are of the tree as it was
    info["changed_files"] = [ln[3:] for ln in changed.stdout.splitlines()] if changed else None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--births", type=sizes, help="birth file sizes, e.g. 10k,100k")
    parser.add_argument("--register", type=sizes, help="register sizes births go into, e.g. 1M")
    parser.add_argument("--rsv", type=sizes, help="person blocks of the big РСВ report")
    parser.add_argument("--small", type=int, help="how many small РСВ files")
    parser.add_argument(
        "--cases",
        type=lambda t: [c.strip() for c in t.split(",")],
        default=list(CASES),
        help=f"a subset of {','.join(CASES)}",
    )
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "latest.json"))
    parser.add_argument("--workdir", default=str(REPO / "var" / "bench" / "work"))
    parser.add_argument("--keep-files", action="store_true", help="keep the generated inputs")
    parser.add_argument("--no-official-check", action="store_true")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("ERZL_BENCH_PG_URL", DEFAULT_PG_URL),
        help="admin URL of the PostgreSQL server (ERZL_BENCH_PG_URL)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child)
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    harness = Harness(args)
    shutil.rmtree(harness.work, ignore_errors=True)
    shutil.rmtree(harness.logs, ignore_errors=True)
    harness.work.mkdir(parents=True)
    harness.logs.mkdir(parents=True)
    cases = harness.plan()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    info = machine(harness, "postgresql" in backends)
    skipped = {}
    if "postgresql" in backends and info["postgresql"] is None:
        reason = f"PostgreSQL not reachable at {args.pg_url}: {getattr(harness, 'pg_error', '')}"
        if args.backend == "postgresql":
            print(f"bench: {reason}", file=sys.stderr)
            return 1
        harness.say(f"skipping postgresql: {reason}")
        backends.remove("postgresql")
        skipped["postgresql"] = reason
    try:
        harness.make_inputs(cases)
        for case in cases:
            harness.file_stages(case)
        for backend in backends:
            harness.backend(backend, cases)
    except Exception:  # a crash of the harness itself: the trace, then one line
        traceback.print_exc()
        harness.crashes.append("bench: the harness crashed (trace above)")
    finally:
        if not args.keep_files:
            shutil.rmtree(harness.work, ignore_errors=True)

    rows = [row for case in cases for row in rows_of(case)]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "preset": args.preset,
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": info,
        "backends": backends,
        "skipped_backends": skipped,
        "seconds": round(time.perf_counter() - started, 1),
        "cases": [
            {
                "case": c.label,
                "kind": c.kind,
                "records": c.records,
                "register": c.register,
                "env": c.env,
                **c.result,
            }
            for c in cases
        ],
        "rows": rows,
        "crashes": harness.crashes,
    }
    info["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), "utf-8")

    print(
        f"{info['cpu_model']} × {info['cpu_count']}, {info['memory_gib']} GiB, Python "
        f"{info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql'] or '-'}; "
        f"{report['date']}, preset {args.preset}, {report['seconds']:,.0f} s"
    )
    print(table(rows))
    for case in cases:
        schema = case.result.get("official_schema")
        if schema and not schema.startswith("valid"):
            print(f"{case.label}: official schema {schema}")
    missing = sorted(
        {
            m
            for c in cases
            for got in c.result.get("backends", {}).values()
            for m in got.get("hooks_missing", [])
        }
    )
    if missing:
        print(f"not clocked (not found in pipelines/): {', '.join(missing)}")
    for backend, reason in skipped.items():
        print(f"{backend}: skipped, {reason}")
    print(f"figures: {out}")
    for line in harness.crashes:
        print(line)
    return 1 if harness.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
