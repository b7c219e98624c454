"""ЕГР ЗАГС birth registrations → register entries and electronic policies."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from erzl_airflow import assets

FEED = "zags_births"
INBOX = assets.inbox(FEED)
REPORT = assets.run_report(FEED)
POOL = os.environ.get("ERZL_REGISTER_POOL", "default_pool")

DOC = """
### zags_births_ingest — births to electronic policies

**What it does.** Every minute it claims the files waiting in `$ERZL_HOME/inbox/zags_births/`
(an atomic rename, so a file is claimed by exactly one run), archives each by its SHA-256, checks it
against `schemas/zags-rogdinf-4.0.1`, runs the birth rules (Great Expectations suite,
`pipelines/validate/births.py`), enrols live-born children with an electronic policy (ЕНП) and an
insurer, then writes a receipt per file, a notice per insurer and the analysts' report.

**Healthy looks like.** Most runs are *skipped* at `claim` (nothing in the inbox). A run that
found files ends with `finish` green; its return value (XCom) has the run totals.

**Where to look.** Outputs under `$ERZL_HOME/outbox/`: `receipts/<run>/PR_*|ER_*`,
`notices/<run>/`, `policies/`, `reports/report_<run>.html`. Unreadable files are kept in
`$ERZL_HOME/quarantine/<run>/` with a `.reason.txt`. Logs never contain personal data.

**Rerun.** Clearing any task is safe: the register run id derives from the DAG run id, a file's
records and its register changes commit in one transaction, and a file is never applied twice.
A run that failed for good leaves nothing behind: the next DAG run (or `erzl recover`) finishes
its files where they stand — journalled, applied or waiting for a receipt. `erzl check` on a
worker tells whether anything is stuck (I03, I04). A file dropped again is reported as a
duplicate and changes nothing. To reprocess a quarantined file after a fix, drop it into the
inbox again under a new name.

**Params.** `as_of` overrides the processing date (the policy's start date); default: the
logical date in ERZL_TIMEZONE.
"""


def _release_run(context) -> None:
    """The DAG run failed for good: its files are the next run's to take over, now."""
    from pipelines import tasks

    tasks.release(context["dag"].dag_id, context["run_id"])


@dag(
    dag_id="zags_births_ingest",
    schedule=[INBOX],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    on_failure_callback=_release_run,
    tags=["erzl", "feed:zags"],
    doc_md=DOC,
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Processing date YYYY-MM-DD; empty for the logical date.",
        )
    },
)
def zags_births_ingest():
    @task
    def claim(params=None, logical_date=None, run_id=None, dag=None, dag_run=None) -> dict:
        from pipelines import tasks

        # an asset-triggered or manual run may have no logical date; its run_after is as fixed
        when = logical_date or getattr(dag_run, "run_after", None)
        as_of = tasks.processing_date(when, (params or {}).get("as_of"))
        claimed = tasks.claim(FEED, dag.dag_id, run_id, as_of)
        if not claimed["file_ids"]:
            raise AirflowSkipException("inbox is empty")
        return claimed

    @task
    def senders(claimed: dict) -> list[dict]:
        from pipelines import tasks

        return tasks.groups(claimed)

    # one mapped task per sender: a sender's files in order, senders side by side, each
    # retried on its own; the pool bounds how many write to the register at once
    @task(pool=POOL, map_index_template="{{ group_label }}")
    def process(group: dict) -> list[dict]:
        from airflow.sdk import get_current_context

        from pipelines import tasks

        get_current_context()["group_label"] = f"{len(group['file_ids'])} file(s)"
        return tasks.process(group)

    @task(outlets=[assets.REGISTER, REPORT])
    def finish(claimed: dict, processed: list, outlet_events=None) -> dict:
        from pipelines import tasks

        totals = tasks.finish(claimed)
        # what the run did, on the asset events a downstream DAG (or an analyst) sees
        note = tasks.run_note(totals)
        for asset in (assets.REGISTER, REPORT):
            outlet_events[asset].extra = note
        print(note["summary"])
        return totals

    claimed = claim()
    finish(claimed, process.expand(group=senders(claimed)))


zags_births_ingest()
