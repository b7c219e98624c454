"""The bodies of the DAGs' tasks: plain functions over plain values, no Airflow import.

A DAG task passes only ids, dates and paths between these functions (never DataFrames), so the
DAGs run under any executor, and each function can be called from a test or the command line.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pipelines import config, intake, run
from pipelines.emit import safe_name

DEFAULT_TIMEZONE = "Europe/Moscow"


def processing_date(logical_date: datetime | None, override: str | None = None) -> date:
    """The run's processing date: the override when given, else the logical date in the fund's
    time zone (ERZL_TIMEZONE, default Europe/Moscow), so a rerun keeps the date it had."""
    if override:
        return date.fromisoformat(override)
    if logical_date is None:
        return date.today()
    zone = ZoneInfo(os.environ.get("ERZL_TIMEZONE", DEFAULT_TIMEZONE))
    return logical_date.astimezone(zone).date()


def run_key(dag_id: str, airflow_run_id: str) -> str:
    """The register's run id for a DAG run: derived from it, so a retried task finds its run."""
    return safe_name(f"{dag_id}__{airflow_run_id}")[:120]


def claim(feed: str, dag_id: str, airflow_run_id: str, as_of: date) -> dict:
    """Claim the feed's inbox, archive and journal what was claimed. Returns ids, not data."""
    settings = config.load()
    run_id = run_key(dag_id, airflow_run_id)
    claimed = intake.claim_inbox(settings, feed, run_id)
    if claimed:
        run.start_run(settings, run_id=run_id, as_of=as_of, trigger="airflow")
        run.receive_files(settings, run_id, claimed, remove_after=True)
    # all of the run's files, also those an earlier try of this task journalled before failing
    file_ids = run.files_of_run(settings, run_id) if claimed or _run_exists(run_id) else []
    return {"run_id": run_id, "file_ids": file_ids, "as_of": as_of.isoformat()}


def _run_exists(run_id: str) -> bool:
    from pipelines.register import db
    from pipelines.register.models import Run

    settings = config.load()
    run.ensure_schema(settings)
    with db.session_scope(settings) as session:
        return session.get(Run, run_id) is not None


def process(claimed: dict) -> list[dict]:
    """Process the claimed files in order; each file is its own transaction."""
    settings = config.load()
    return [
        run.process_file(settings, claimed["run_id"], file_id).as_json()
        for file_id in claimed["file_ids"]
    ]


def finish(claimed: dict) -> dict:
    """End-of-run decisions and outputs: notices, the list of policies, the analysts' report."""
    settings = config.load()
    return run.finish_run(settings, claimed["run_id"]).as_json()
