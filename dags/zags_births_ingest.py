"""ЕГР ЗАГС birth registrations → register entries and electronic policies."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag

from erzl_airflow import assets
from erzl_airflow.ingest import ingest_tasks, release_run

FEED = "zags_births"
INBOX = assets.inbox(FEED)
REPORT = assets.run_report(FEED)
POOL = os.environ.get("ERZL_REGISTER_POOL", "default_pool")

DOC = """
### zags_births_ingest — births to electronic policies

**What it does.** It starts when files arrive: the triggerer watches
`$ERZL_HOME/inbox/zags_births/` (the `erzl_inbox_zags_births` asset) and a run begins once they
have settled. `claim` takes them (an atomic rename, so a file is claimed by exactly one run),
archives each by its SHA-256 and finishes what runs that died left; `process` (mapped per sender)
checks each against `schemas/zags-rogdinf-4.0.1`, runs the birth rules (Great Expectations suite,
`pipelines/validate/births.py`), enrols live-born children with an electronic policy (ЕНП) and an
insurer, then writes a receipt per file, a notice per insurer and the analysts' report.

**Healthy looks like.** No run while the inbox is empty. A run ends with `finish` green; what it
did is on the `erzl_register` asset event, in `finish`'s log line and in its XCom. `erzl status`
on a worker shows the backlog and stuck work.

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


@dag(
    dag_id="zags_births_ingest",
    schedule=[INBOX],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    on_failure_callback=release_run,
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
    ingest_tasks(FEED, REPORT, POOL)


zags_births_ingest()
