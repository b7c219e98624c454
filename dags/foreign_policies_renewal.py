"""Yearly renewal of foreign workers' policies at the turn of the year."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from erzl_airflow.ingest import release_run

DOC = """
### foreign_policies_renewal — renew or lapse at the turn of the year

**What it does.** On 1 January (fund time zone) it takes every active foreign-worker policy that
ended on 31 December and renews it to the end of the new year when the contribution ledger shows
a counted month (ВП category, non-zero payment) within `ERZL_RENEWAL_LOOKBACK_MONTHS` (default
12) before that end; otherwise the policy is marked `lapsed`. Each insurer gets a notice listing
its renewals and lapses; the analysts' report lists the counts. Nothing is deleted.

**Healthy looks like.** One green run a year; XCom `renewed` + `lapsed` equals the number of
foreign-worker policies that ended on 31 December.

**Rerun.** Safe: a renewed policy no longer ends on 31 December of the old year and a lapsed one
is no longer active, so a rerun finds nothing left to do. Trigger with `dry_run=true` to see the
counts without changing anything. Late РСВ reports (Q4 arrives by 15 February) can be followed by
a manual rerun with `as_of`; lapsed workers whose contributions resumed are enrolled again by the
eligibility rule of `fns_rsv_ingest`.
"""


@dag(
    dag_id="foreign_policies_renewal",
    schedule="0 0 1 1 *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Moscow"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    on_failure_callback=release_run,
    tags=["erzl", "maintenance"],
    doc_md=DOC,
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Processing date YYYY-MM-DD; policies that ended on 31 December of the "
            "previous year are renewed or lapsed. Empty for the logical date.",
        ),
        "dry_run": Param(False, type="boolean", description="Count only; change nothing."),
    },
)
def foreign_policies_renewal():
    @task
    def renew(params=None, logical_date=None, run_id=None, dag=None, dag_run=None) -> dict:
        from pipelines import tasks

        params = params or {}
        when = logical_date or getattr(dag_run, "run_after", None)
        as_of = tasks.processing_date(when, params.get("as_of"))
        return tasks.renew(dag.dag_id, run_id, as_of, bool(params.get("dry_run")))

    renew()


foreign_policies_renewal()
