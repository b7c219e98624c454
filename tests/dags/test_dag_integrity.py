"""Policy for every DAG file, one test per file so a failure names it (STYLE.md habits 2, 8, 10).

A DAG file must import cleanly, do no work when parsed, carry tags from the allowed set, explain
itself with a runbook, retry, never catch up, cap its active runs, and describe its params. The
package it calls must import without Airflow.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
ALLOWED_TAGS = {"erzl", "feed:zags", "feed:rsv", "maintenance"}
INGEST_DAGS = {"zags_births_ingest", "fns_rsv_ingest"}
HEAVY = ("pandas", "sqlalchemy", "lxml", "great_expectations", "pipelines")
MIN_RUNBOOK_CHARS = 400
RUNBOOK_SECTIONS = ("healthy", "rerun")

# Run in a fresh interpreter: import what every DAG file needs from Airflow, then fork once per
# DAG file and report which top-level packages that file's import added on top of it.
_PARSE_PROBE = r"""
import importlib.util, json, os, sys
import airflow.sdk, airflow.sdk.exceptions, pendulum
baseline = set(sys.modules)
report = {}
for path in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            spec = importlib.util.spec_from_file_location("dag_under_test", path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            added = sorted({m.split(".")[0] for m in set(sys.modules) - baseline})
            result = {"added": added}
        except BaseException as exc:
            result = {"error": repr(exc)}
        with os.fdopen(write, "w") as out:
            json.dump(result, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as inp:
        report[path] = json.loads(inp.read() or '{"error": "no report"}')
    os.waitpid(pid, 0)
print(json.dumps(report))
"""


def _ids(path: Path) -> str:
    return path.name


@pytest.fixture(scope="module")
def parse_probe() -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_PROBE, *map(str, DAG_FILES)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dag_keywords(path: Path) -> set[str]:
    """Keywords passed explicitly to ``@dag(...)`` or ``DAG(...)`` in the file (Airflow fills
    the others from its config, so a value alone cannot tell "set" from "defaulted")."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in {"dag", "DAG"}:
                names |= {k.arg for k in node.keywords if k.arg}
    return names


def _dags_of(dagbag, path: Path) -> list:
    dags = [d for d in dagbag.dags.values() if Path(d.fileloc).resolve() == path.resolve()]
    assert dags, f"{path.name} defines no DAG"
    return dags


def test_there_are_dag_files():
    assert {p.name for p in DAG_FILES} >= {
        "zags_births_ingest.py",
        "fns_rsv_ingest.py",
        "foreign_policies_renewal.py",
    }


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_imports_without_errors(dagbag, path):
    errors = {Path(f).name: e for f, e in dagbag.import_errors.items()}
    assert path.name not in errors, errors.get(path.name)
    _dags_of(dagbag, path)


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_no_heavy_imports_at_module_level(path):
    """Statically: heavy imports only inside task functions (this also catches sqlalchemy,
    which Airflow itself imports, so the runtime check below cannot see it)."""
    tree = ast.parse(path.read_text("utf-8"))
    top_level = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.append(node.module)
    assert not [m for m in top_level if m.split(".")[0] in HEAVY]


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_parsing_does_no_work(parse_probe, path):
    result = parse_probe[str(path)]
    assert "error" not in result, result.get("error")
    assert not set(result["added"]) & set(HEAVY), result["added"]


def test_pipelines_imports_without_airflow():
    code = (
        "import pipelines, pipelines.run, pipelines.cli, pipelines.tasks; import sys; "
        "assert not any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.split('.')[0] == 'airflow')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_tags_from_the_allowed_set(dagbag, path):
    for dag in _dags_of(dagbag, path):
        tags = set(dag.tags)
        assert "erzl" in tags, dag.dag_id
        assert tags <= ALLOWED_TAGS, f"{dag.dag_id}: unknown tags {tags - ALLOWED_TAGS}"


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_runbook_in_doc_md(dagbag, path):
    for dag in _dags_of(dagbag, path):
        doc = (dag.doc_md or "").strip()
        assert len(doc) >= MIN_RUNBOOK_CHARS, f"{dag.dag_id}: doc_md is not a runbook"
        assert doc.startswith("#"), f"{dag.dag_id}: doc_md should open with a heading"
        lowered = doc.lower()
        missing = [s for s in RUNBOOK_SECTIONS if f"**{s}" not in lowered]
        assert not missing, f"{dag.dag_id}: runbook lacks {missing}"


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_scheduling_policy(dagbag, path):
    explicit = _dag_keywords(path)
    assert {"catchup", "max_active_runs", "default_args"} <= explicit, explicit
    for dag in _dags_of(dagbag, path):
        assert dag.catchup is False, dag.dag_id
        assert dag.max_active_runs is not None and 1 <= dag.max_active_runs <= 16, dag.dag_id
        assert dag.dagrun_timeout is not None, f"{dag.dag_id}: a stuck run would block the next"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id}: no retries"
            assert task.retry_delay > timedelta(0), f"{dag.dag_id}.{task.task_id}"


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_ingest_dags_are_started_by_files_arriving_in_their_inbox(dagbag, path):
    """No polling schedule: each ingest DAG is scheduled on its inbox asset, which the
    triggerer watches with the inbox trigger, looking at least once a minute."""
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable

    from erzl_airflow.triggers import InboxTrigger

    for dag in _dags_of(dagbag, path):
        if dag.dag_id not in INGEST_DAGS:
            continue
        assert isinstance(dag.timetable, AssetTriggeredTimetable), dag.timetable
        [asset] = dag.timetable.asset_condition.objects
        feed = dag.dag_id.removesuffix("_ingest")
        assert asset.uri == f"erzl://inbox/{feed}", asset.uri
        [watcher] = asset.watchers
        assert isinstance(watcher.trigger, InboxTrigger)
        assert watcher.trigger.directory.endswith(f"/inbox/{feed}")
        assert 0 < watcher.trigger.poke_interval <= 60
        outlets = {a.name for t in dag.tasks for a in getattr(t, "outlets", [])}
        assert {"erzl_register", f"erzl_run_report_{feed}"} <= outlets, outlets


@pytest.mark.parametrize("path", DAG_FILES, ids=_ids)
def test_every_param_is_described(dagbag, path):
    for dag in _dags_of(dagbag, path):
        for name, param in dag.params.items():
            description = (param.description or "").strip()
            assert len(description) >= 10, f"{dag.dag_id}: param {name!r} has no description"
