"""The bodies of the DAGs' tasks: plain functions over plain values, no Airflow import.

A DAG task passes only ids, dates and paths between these functions (never DataFrames), so the
DAGs run under any executor, and each function can be called from a test or the command line.
Each fails only with :class:`pipelines.errors.PipelineFailure`, whose text holds no personal
value, so nothing of the input reaches the Airflow task log.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pipelines import config, intake, run
from pipelines.emit import safe_name
from pipelines.errors import PipelineFailure, boundary

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


@boundary
def claim(feed: str, dag_id: str, airflow_run_id: str, as_of: date) -> dict:
    """Take over what runs that died left of this feed, claim the feed's inbox, archive and
    journal what was claimed. Returns ids, not data; opens no run when there is nothing to do."""
    settings = config.load()
    run_id = run_key(dag_id, airflow_run_id)
    run.ensure_schema(settings)
    inbox = settings.feed_inbox(feed)
    waiting = inbox.is_dir() and bool(intake.waiting(inbox, settings.settle_seconds))
    own_folder = (settings.work / safe_name(run_id)).is_dir()  # an earlier try moved files
    if not (
        waiting
        or own_folder
        or _run_exists(settings, run_id)
        or run.has_unfinished_work(settings, run_id, feed=feed)
    ):
        return {"run_id": run_id, "file_ids": [], "groups": [], "as_of": as_of.isoformat()}
    # the run's row (and its lease) exists before any file moves into its work folder, so no
    # other run mistakes the folder for one a dead run left
    run.start_run(settings, run_id=run_id, as_of=as_of, trigger="airflow")
    claimed = intake.claim_inbox(settings, feed, run_id)
    recovered = run.recover(settings, run_id, feed=feed)
    journalled = run.receive_files(settings, run_id, claimed, remove_after=True)
    # and the files an earlier try of this task journalled before failing
    earlier = run.files_of_run(settings, run_id)
    file_ids = list(dict.fromkeys([*recovered, *journalled, *earlier]))
    if not file_ids:  # another run took what was waiting: this one did nothing, and says so
        run.release(settings, run_id, because="nothing left to claim", status="finished")
    return {
        "run_id": run_id,
        "file_ids": file_ids,
        "groups": run.work_groups(settings, file_ids),
        "as_of": as_of.isoformat(),
    }


def groups(claimed: dict) -> list[dict]:
    """One unit of mapped work per sender: the files of one sender, in order."""
    return [{"run_id": claimed["run_id"], "file_ids": group} for group in claimed.get("groups", [])]


@boundary
def files(claimed: dict) -> list[dict]:
    """One unit of mapped work per file, each naming the file it must follow (run.work_units)."""
    return run.work_units(config.load(), claimed["run_id"], claimed.get("groups", []))


@boundary
def process_one(unit: dict) -> dict:
    """Process one file once the file it follows is applied: its summary, or
    ``{"waiting_for": id}`` while that file is still being applied (the task comes back later,
    freeing its worker meanwhile). Fails when that file failed for good."""
    settings = config.load()
    blocked = run.blocked_by(settings, unit["run_id"], unit.get("after"))
    if blocked == "waiting":
        return {"waiting_for": unit["after"]}
    if blocked == "failed":
        raise PipelineFailure(
            f"file {unit['file_id']} follows file {unit['after']}, which failed: "
            "the next run takes both over"
        )
    return run.process_file(settings, unit["run_id"], unit["file_id"]).as_json()


@boundary
def file_failed(unit: dict) -> None:
    """A file's task failed for good (its last try): the files that follow it fail too."""
    run.file_failed(config.load(), unit["run_id"], unit["file_id"])


def _run_exists(settings: config.Settings, run_id: str) -> bool:
    from pipelines.register import db
    from pipelines.register.models import Run

    with db.session_scope(settings) as session:
        return session.get(Run, run_id) is not None


@boundary
def process(claimed: dict) -> list[dict]:
    """Process the claimed files (or one group of them) in order; each file is its own
    transaction."""
    settings = config.load()
    return [
        run.process_file(settings, claimed["run_id"], file_id).as_json()
        for file_id in claimed["file_ids"]
    ]


@boundary
def finish(claimed: dict) -> dict:
    """End-of-run decisions and outputs: notices, the list of policies, the analysts' report."""
    settings = config.load()
    return run.finish_run(settings, claimed["run_id"]).as_json()


@boundary
def renew(dag_id: str, airflow_run_id: str, as_of: date, dry_run: bool) -> dict:
    """The yearly renewal of foreign workers' policies, as one register run."""
    settings = config.load()
    return run.renew(settings, as_of=as_of, dry_run=dry_run, run_id=run_key(dag_id, airflow_run_id))


@boundary
def release(dag_id: str, airflow_run_id: str) -> None:
    """A DAG run that failed for good gives its register run up at once, so the next DAG run
    takes its files over now rather than when the lease expires (the DAGs' failure callback)."""
    run.release(config.load(), run_key(dag_id, airflow_run_id), because="the DAG run failed")


def run_note(totals: dict) -> dict:
    """What a run did, in one line and as figures: for the run's asset events and its log."""
    keys = ("files", "received", "accepted", "rejected", "review", "duplicate", "not_applicable")
    figures = {k: totals.get(k, 0) for k in (*keys, "enrolled", "policies_issued")}
    reports = [p for p in totals.get("reports", []) if p.endswith(".html")]
    summary = (
        f"{figures['files']} file(s), {figures['received']} record(s): "
        f"{figures['accepted']} accepted, {figures['rejected']} rejected, "
        f"{figures['review']} held for review, {figures['duplicate']} duplicate, "
        f"{figures['not_applicable']} not applicable; {figures['enrolled']} enrolled"
        + (f"; report {reports[0]}" if reports else "")
    )
    return {"run_id": totals.get("run_id"), **figures, "report": reports[0] if reports else None,
            "summary": summary}  # fmt: skip
