"""The tasks of both ingest DAGs and their edges — claim → files → process (mapped: one task
per file) → finish — so each DAG file keeps only what is its own: the feed, the schedule, the
runbook, the params.
Each task body imports ``pipelines`` when it runs, never when the DAG file is parsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, task
from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSkipException

from erzl_airflow import assets

RESCHEDULE_SECONDS = 5  # how soon a file waiting for the one it follows is tried again


def ingest_tasks(feed: str, report: Asset, pool: str) -> None:
    """Lay the ingest tasks of ``feed`` into the DAG being defined."""

    @task
    def claim(params=None, logical_date=None, run_id=None, dag=None, dag_run=None) -> dict:
        from pipelines import tasks

        # an asset-triggered or manual run may have no logical date; its run_after is as fixed
        when = logical_date or getattr(dag_run, "run_after", None)
        as_of = tasks.processing_date(when, (params or {}).get("as_of"))
        claimed = tasks.claim(feed, dag.dag_id, run_id, as_of)
        if not claimed["file_ids"]:
            raise AirflowSkipException("inbox is empty")
        return claimed

    @task
    def files(claimed: dict) -> list[dict]:
        from pipelines import tasks

        return tasks.files(claimed)

    # one mapped task per file, seen, timed and retried on its own: files of different senders
    # side by side on any worker; a file that must follow another (the sender's earlier
    # report, the original of a copy) is rescheduled until that one is applied, holding no
    # worker meanwhile; the pool bounds how many write to the register at once
    @task(pool=pool, map_index_template="{{ file_label }}")
    def process(unit: dict) -> dict:
        from airflow.sdk import get_current_context

        from pipelines import tasks

        context = get_current_context()
        context["file_label"] = unit["label"]
        try:
            done = tasks.process_one(unit)
        except Exception:
            ti = context["ti"]
            if ti.try_number > ti.max_tries:  # the last try: what follows this file fails too
                tasks.file_failed(unit)
            raise
        if "waiting_for" in done:
            raise AirflowRescheduleException(
                reschedule_date=datetime.now(UTC) + timedelta(seconds=RESCHEDULE_SECONDS)
            )
        return done

    @task(outlets=[assets.REGISTER, report])
    def finish(claimed: dict, processed: list, outlet_events=None, dag=None, run_id=None) -> dict:
        from erzl_airflow.notes import write_note
        from pipelines import tasks

        totals = tasks.finish(claimed)
        # what the run did: on the asset events a downstream DAG (or an analyst) sees, in the
        # log, and as the DAG run's note in the UI
        note = tasks.run_note(totals)
        for asset in (assets.REGISTER, report):
            outlet_events[asset].extra = note
        print(note["summary"])
        write_note(dag.dag_id, run_id, note["summary"])
        return totals

    claimed = claim()
    finish(claimed, process.expand(unit=files(claimed)))


def release_run(context) -> None:
    """The DAGs' failure callback: a DAG run that failed for good gives its register run up,
    so the next run takes its files over now."""
    from pipelines import tasks

    tasks.release(context["dag"].dag_id, context["run_id"])
