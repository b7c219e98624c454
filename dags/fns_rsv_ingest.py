"""ФНС РСВ contribution reports → contribution ledger, working status, foreign workers' policies."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag

from erzl_airflow import assets
from erzl_airflow.ingest import ingest_tasks, release_run

FEED = "fns_rsv"
INBOX = assets.inbox(FEED)
REPORT = assets.run_report(FEED)
POOL = os.environ.get("ERZL_REGISTER_POOL", "default_pool")

DOC = """
### fns_rsv_ingest — employer contribution reports

**What it does.** It starts when files arrive (the triggerer watches `$ERZL_HOME/inbox/fns_rsv/`,
the `erzl_inbox_fns_rsv` asset), claims them (atomic rename: one run per file) and archives each
by SHA-256, then — one mapped task per payer, payers side by side — checks each against
`schemas/fns-rsv-5.08`, and applies the reports in the order of their document date to the
contribution ledger: a higher НомКорр replaces what the payer filed for the persons it lists,
`ПрАннулир="1"` removes a person's months, a stale correction changes nothing. Insured persons
get working status and employer updated. At the end of the run, eligibility is evaluated over
the whole ledger: foreign workers (КодКатЛиц ВП*) whose counted months reach the threshold in
force (36 months before 2026-01-01, 60 from then; `ERZL_FOREIGN_MIN_MONTHS` overrides) are
enrolled with an electronic policy to 31 December and an insurer by share.

**Healthy looks like.** No run while the inbox is empty. A run ends with `finish` green; its
XCom and the `erzl_register` asset event hold the run totals (`enrolled`, `policies_issued`,
`review`).

**Where to look.** `$ERZL_HOME/outbox/receipts/<run>/`, `notices/<run>/`, `policies/`,
`reports/`; refused payers (ИНН/КПП) get an `ER_` receipt; unreadable files sit in
`$ERZL_HOME/quarantine/<run>/`. A worker held for review (lost eligibility after an annulment,
or entitled without a birth date) is counted in `review` and listed in the report.

**Rerun.** Safe at any task: ids derive from the DAG run id, each file is one transaction, a
re-sent file or a stale correction changes nothing. A run that failed for good is finished by the
next DAG run (or `erzl recover`), eligibility included; `erzl check` tells whether anything is
stuck (I03, I04).

**Params.** `as_of` overrides the processing date (which threshold applies, policy dates).
"""


@dag(
    dag_id="fns_rsv_ingest",
    schedule=[INBOX],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    on_failure_callback=release_run,
    tags=["erzl", "feed:rsv"],
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
def fns_rsv_ingest():
    ingest_tasks(FEED, REPORT, POOL)


fns_rsv_ingest()
