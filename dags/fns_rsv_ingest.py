"""ФНС РСВ contribution reports → contribution ledger, working status, foreign workers' policies."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from erzl_airflow import assets

FEED = "fns_rsv"
INBOX = assets.inbox(FEED)
REPORT = assets.run_report(FEED)
POOL = os.environ.get("ERZL_REGISTER_POOL", "default_pool")

DOC = """
### fns_rsv_ingest — employer contribution reports

**What it does.** Every minute it claims the files waiting in `$ERZL_HOME/inbox/fns_rsv/`
(atomic rename: one run per file), archives each by SHA-256, checks it against
`schemas/fns-rsv-5.08`, and applies the reports in the order of their document date to the
contribution ledger: a higher НомКорр replaces what the payer filed for the persons it lists,
`ПрАннулир="1"` removes a person's months, a stale correction changes nothing. Insured persons
get working status and employer updated. At the end of the run, eligibility is evaluated over
the whole ledger: foreign workers (КодКатЛиц ВП*) whose counted months reach the threshold in
force (36 months before 2026-01-01, 60 from then; `ERZL_FOREIGN_MIN_MONTHS` overrides) are
enrolled with an electronic policy to 31 December and an insurer by share.

**Healthy looks like.** Most runs skip at `claim`. A run with files ends with `finish` green;
its XCom holds the run totals (`enrolled`, `policies_issued`, `review`).

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


def _release_run(context) -> None:
    """The DAG run failed for good: its files are the next run's to take over, now."""
    from pipelines import tasks

    tasks.release(context["dag"].dag_id, context["run_id"])


@dag(
    dag_id="fns_rsv_ingest",
    schedule=[INBOX],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    on_failure_callback=_release_run,
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


fns_rsv_ingest()
