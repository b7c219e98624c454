"""A DAG run whose database fails mid-run writes no personal value into the task log, and the
next DAG run finishes what it left."""

from __future__ import annotations

import logging

import pendulum

from tests.scenarios import births_scenario, personal_values
from tests.test_no_personal_data import break_person_inserts, restore_person_inserts


def test_a_failing_task_logs_the_code_and_the_file_not_the_values(
    airflow_db, dagbag, settings, tmp_path, capfd, caplog
):
    from pipelines import cli

    scenario = births_scenario(tmp_path / "in")
    assert cli.main(["register", "load", str(scenario.register_csv)]) == 0
    break_person_inserts(settings)
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True, exist_ok=True)
    for path in scenario.files:
        (inbox / path.name).write_bytes(path.read_bytes())

    caplog.set_level(logging.DEBUG)
    dag = dagbag.dags["zags_births_ingest"]
    retries = {task.task_id: task.retries for task in dag.tasks}
    for task in dag.tasks:  # the failure is the same on every try: do not wait for retries
        task.retries = 0
    try:
        dag_run = dag.test(logical_date=pendulum.datetime(2026, 3, 2, 9, tz="UTC"))
    finally:
        for task in dag.tasks:
            task.retries = retries[task.task_id]

    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert states["claim"] == "success" and states["process"] == "failed"
    out, err = capfd.readouterr()
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    task_log = out + err + logged
    assert "E101 database error" in task_log and "(file " in task_log
    values = personal_values(scenario.files)
    assert [v for v in values if v in task_log] == []

    # the failure callback gave the register run up: the next DAG run takes its files over now
    from sqlalchemy import select

    from pipelines.register import db
    from pipelines.register.models import ReceivedFile, Run

    with db.session_scope(settings) as session:
        assert session.scalar(select(Run.status).where(Run.trigger == "airflow")) == "failed"
        stuck = {f.state for f in session.scalars(select(ReceivedFile))}
        assert stuck <= {"received", "applying"}, stuck  # nothing of the failed run applied
    restore_person_inserts(settings)
    assert list(inbox.iterdir()) == []  # nothing new: the next run works on what is stuck
    nxt = dag.test(logical_date=pendulum.datetime(2026, 3, 2, 10, tz="UTC"))
    states = {ti.task_id: str(ti.state) for ti in nxt.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    with db.session_scope(settings) as session:
        assert {f.state for f in session.scalars(select(ReceivedFile))} == {"emitted"}
    assert cli.main(["check"]) == 0
