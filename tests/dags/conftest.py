"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME with its own SQLite metadata database.

Airflow reads its configuration when first imported, so the environment is set here, at import
time, before any test module imports airflow. The register under test is separate: it is the
`erzl_env` fixture's database (SQLite, or PostgreSQL with ERZL_TEST_DATABASE=postgresql).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"

if "airflow" in sys.modules:  # too late to point it elsewhere: it has read its config already
    raise RuntimeError("airflow was imported before tests/dags/conftest.py could configure it")

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="erzl-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    }
)
for _key in [k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]:
    del os.environ[_key]  # no connection or variable from the developer's shell leaks in


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.airflow)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database, created in-process once per session (no `airflow db` command)."""
    from airflow.utils.db import initdb

    initdb()
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def dagbag():
    """Every DAG in dags/, parsed the way the DAG processor parses them."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
