"""The tasks of both ingest DAGs and their edges — claim → senders → process (mapped) → finish —
so each DAG file keeps only what is its own: the feed, the schedule, the runbook, the params.
Each task body imports ``pipelines`` when it runs, never when the DAG file is parsed."""

from __future__ import annotations

from airflow.sdk import Asset, task
from airflow.sdk.exceptions import AirflowSkipException

from erzl_airflow import assets


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
    def senders(claimed: dict) -> list[dict]:
        from pipelines import tasks

        return tasks.groups(claimed)

    # one mapped task per sender: a sender's files in order, senders side by side, each
    # retried on its own; the pool bounds how many write to the register at once
    @task(pool=pool, map_index_template="{{ group_label }}")
    def process(group: dict) -> list[dict]:
        from airflow.sdk import get_current_context

        from pipelines import tasks

        get_current_context()["group_label"] = f"{len(group['file_ids'])} file(s)"
        return tasks.process(group)

    @task(outlets=[assets.REGISTER, report])
    def finish(claimed: dict, processed: list, outlet_events=None) -> dict:
        from pipelines import tasks

        totals = tasks.finish(claimed)
        # what the run did, on the asset events a downstream DAG (or an analyst) sees
        note = tasks.run_note(totals)
        for asset in (assets.REGISTER, report):
            outlet_events[asset].extra = note
        print(note["summary"])
        return totals

    claimed = claim()
    finish(claimed, process.expand(group=senders(claimed)))


def release_run(context) -> None:
    """The DAGs' failure callback: a DAG run that failed for good gives its register run up,
    so the next run takes its files over now."""
    from pipelines import tasks

    tasks.release(context["dag"].dag_id, context["run_id"])
