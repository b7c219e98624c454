"""``erzl demo``: realistic sample drops, run through the Airflow DAGs on the embedded default.

The demo loads a small register (mothers with policies), drops birth files — valid records and
every kind of broken one, a correction, a re-send, an unreadable file — and several years of
employer reports in which some foreign workers cross the contribution threshold, then runs
``zags_births_ingest`` and ``fns_rsv_ingest`` with ``airflow dags test`` and prints what happened
and where the outputs are. Airflow itself is run as a command, so this package never imports it.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from pipelines import config
from pipelines.demo import rsv_gen, zags_gen
from pipelines.identifiers import enp_compose
from pipelines.records import ABSENT, PartialDate
from pipelines.register import db
from pipelines.register.models import Run

DAGS = ("zags_births_ingest", "fns_rsv_ingest")


def _register_csv(path: Path, mothers: list, rng: random.Random) -> Path:
    """A register extract holding the given mothers, each with an active policy and an insurer."""
    codes = ["45001", "45002", "45003"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["enp", "snils", "last_name", "first_name", "middle_name", "birth_date", "sex",
             "insurer_code", "policy_status"]
        )  # fmt: skip
        for serial, mother in enumerate(mothers, start=1):
            writer.writerow(
                [
                    enp_compose("45", 0, mother.birth_date, 5000 + serial),
                    mother.snils or "",
                    mother.last_name,
                    mother.first_name,
                    mother.middle_name or "",
                    mother.birth_date.isoformat(),
                    2,
                    rng.choice(codes),
                    "active",
                ]
            )
    return path


def make_drops(settings: config.Settings, seed: int, as_of: date) -> dict:
    """Write the demo's register extract and inbox drops; returns what was made."""
    rng = random.Random(seed)
    work = settings.home / "demo"
    work.mkdir(parents=True, exist_ok=True)
    births_inbox = settings.feed_inbox("zags_births")
    rsv_inbox = settings.feed_inbox("fns_rsv")
    births_inbox.mkdir(parents=True, exist_ok=True)
    rsv_inbox.mkdir(parents=True, exist_ok=True)

    act_date = as_of - timedelta(days=1)
    specs = zags_gen.random_birth_specs(
        rng, 24, act_date=act_date, stillborn_rate=0, partial_date_rate=0, no_mother_rate=0,
        bad_mother_snils_rate=0,
    )  # fmt: skip
    # the broken ones, one of each kind the rules know
    specs[1] = dataclasses.replace(specs[1], stillborn=True)
    specs[2] = dataclasses.replace(
        specs[2], birth_date=PartialDate(act_date.year, act_date.month, ABSENT)
    )
    specs[3] = dataclasses.replace(specs[3], snils=zags_gen.make_snils(rng, valid=False))
    specs[4] = dataclasses.replace(specs[4], birth_date=act_date + timedelta(days=1))
    if specs[5].mother is not None:
        bad = zags_gen.make_snils(rng, valid=False)
        specs[5] = dataclasses.replace(
            specs[5], mother=dataclasses.replace(specs[5].mother, snils=bad)
        )
    specs[6] = dataclasses.replace(specs[6], status_code="9999")
    mothers = [s.mother for s in specs[::2] if s.mother and isinstance(s.mother.birth_date, date)]
    register = _register_csv(work / "register.csv", mothers, rng)

    first = zags_gen.write_rogdinf(births_inbox / "ROGDINF_demo_0001.xml", specs)
    corrected = dataclasses.replace(specs[0], version="2", first_name=specs[0].first_name)
    resend = specs[7]
    second = zags_gen.write_rogdinf(births_inbox / "ROGDINF_demo_0002.xml", [corrected, resend])
    (births_inbox / "ROGDINF_demo_0003.xml").write_bytes(first.read_bytes())  # dropped twice
    (births_inbox / "ROGDINF_demo_broken.xml").write_bytes(first.read_bytes()[:700])

    reports = rsv_gen.random_rsv_reports(rng, years=tuple(range(2020, 2026)))
    rsv_files = [rsv_gen.write_rsv(rsv_inbox, spec) for spec in reports]
    return {
        "register": register,
        "births": [first, second],
        "rsv_files": len(rsv_files),
    }


def _airflow_env(settings: config.Settings) -> dict[str, str]:
    from pipelines.console.serve import local_airflow

    return {
        **os.environ,
        **local_airflow(settings),
        # the demo wrote its drops whole a moment ago: no settle interval to wait out
        "ERZL_SETTLE_SECONDS": "0",
    }


def _airflow(args: list[str], env: dict, log) -> None:
    command = [sys.executable, "-m", "airflow", *args]
    done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed; see {log.name}")


def run_demo(
    settings: config.Settings, *, seed: int = 2026, use_airflow: bool = True, serve: bool = False
) -> int:
    from pipelines import tasks
    from pipelines.enrol.register_load import load_register
    from pipelines.run import ensure_schema

    as_of = date.today()
    ensure_schema(settings)
    made = make_drops(settings, seed, as_of)
    with db.session_scope(settings) as session:
        loaded = load_register(session, made["register"])
    print(f"register: loaded {loaded['loaded']} mother(s) with active policies")
    print(
        f"drops: {len(list(settings.feed_inbox('zags_births').iterdir()))} birth file(s), "
        f"{made['rsv_files']} РСВ report(s) over 2020-2025"
    )
    if use_airflow:
        env = _airflow_env(settings)
        Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        log_path = settings.home / "airflow" / "demo.log"
        print(f"running the DAGs with `airflow dags test` (log: {log_path}) …")
        with log_path.open("w") as log:
            _airflow(["db", "migrate"], env, log)
            for dag_id in DAGS:
                _airflow(["dags", "test", dag_id, as_of.isoformat()], env, log)
    else:
        os.environ["ERZL_SETTLE_SECONDS"] = "0"  # as above: the drops are complete
        for feed, dag_id in zip(("zags_births", "fns_rsv"), DAGS, strict=True):
            claimed = tasks.claim(feed, dag_id, f"demo-{as_of.isoformat()}", as_of)
            if claimed["file_ids"]:
                tasks.process(claimed)
                tasks.finish(claimed)
    _print_outcome(settings)
    status = _print_check(settings)
    if serve:
        from pipelines.console.serve import passwords_file
        from pipelines.console.serve import serve as serve_console

        def ready(url: str) -> None:
            print(f"\nconsole: {url}")
            print(f"  sign in as analyst1 or analyst2; passwords: {passwords_file(settings)}")
            print("  it runs in the background; `erzl console --stop` stops it", flush=True)

        print("\nstarting the analysts' console (Airflow's API server) …", flush=True)
        serve_console(settings, ready=ready, background=True)
    return status


def _print_check(settings: config.Settings) -> int:
    """The register's invariants after the demo: `erzl check` in one line, or its violations."""
    from pipelines.check import check

    with db.session_scope(settings) as session:
        found = check(session, settings)
    for violation in found:
        print(violation.line())
    print(
        f"\nerzl check: {len(found)} violation(s)" if found else "\nerzl check: all invariants hold"
    )
    return 1 if found else 0


def _print_outcome(settings: config.Settings) -> None:
    with db.session_scope(settings) as session:
        runs = session.scalars(select(Run).order_by(Run.started_at)).all()
        for run in runs:
            totals = run.totals or {}
            print(
                f"\nrun {run.id} ({run.status}): {totals.get('files', 0)} file(s), "
                f"{totals.get('received', 0)} record(s) received"
            )
            print(
                "  accepted {accepted}, rejected {rejected}, review {review}, duplicate "
                "{duplicate}, not applicable {not_applicable}; enrolled {enrolled}, "
                "policies issued {policies_issued}".format(
                    **{k: totals.get(k, 0) for k in (
                        "accepted", "rejected", "review", "duplicate", "not_applicable",
                        "enrolled", "policies_issued",
                    )}
                )
            )  # fmt: skip
            for path in totals.get("reports", []):
                if path.endswith(".json") or "/runs/" in path:
                    print(f"  report: {path}")
    out = settings.outbox
    print("\noutputs:")
    for sub in ("receipts", "notices", "policies", "reports"):
        files = sorted(p for p in (out / sub).rglob("*") if p.is_file())
        print(f"  {out / sub}: {len(files)} file(s)")
    quarantined = sorted(settings.quarantine.rglob("*.reason.txt"))
    for reason in quarantined:
        print(f"  quarantined: {reason.with_suffix('').with_suffix('').name} — "
              f"{reason.read_text('utf-8').splitlines()[0]}")  # fmt: skip
    index = out / "reports" / "index.html"
    if index.is_file():
        print(f"\nanalysts' pages (static): {index.as_uri()}")
    print(
        "\nnext: `erzl console` serves them live in Airflow; `erzl register export`, "
        "`erzl records export`, `erzl policy <ENP> --out DIR` for any ЕНП above."
    )
