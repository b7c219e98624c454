"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL with
ERZL_TEST_DATABASE=postgresql (ERZL_TEST_PG_URL names the server; default the local one)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipelines import config
from pipelines.register import db

REPO = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("ERZL_TEST_DATABASE", "sqlite")
PG_SERVER = os.environ.get(
    "ERZL_TEST_PG_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)


def pytest_report_header(config) -> str:
    return f"register backend: {BACKEND}"


def pytest_collection_modifyitems(config, items) -> None:
    """A test that compares with the official schemas (the ``official`` fixture) needs the
    shared reference files: it is a conformance test (``make conformance``)."""
    for item in items:
        if "official" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.conformance)


def _pg_admin():
    return create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template():
    """A database with the migrations applied, copied for each test (CREATE … TEMPLATE)."""
    if BACKEND != "postgresql":
        yield None
        return
    name = f"erzl_tpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    settings = config.load({"ERZL_HOME": "/tmp/erzl-tpl", "ERZL_DATABASE_URL": _pg_url(name)})
    db.upgrade(settings)
    db.dispose(settings)
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(tmp_path, pg_template):
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'register.sqlite3'}"
        return
    name = f"erzl_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = _pg_url(name)
    yield url
    db.dispose(config.load({"ERZL_DATABASE_URL": url}))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def erzl_env(tmp_path, database_url, monkeypatch) -> dict[str, str]:
    """The environment of an isolated installation: its own home, database and insurers."""
    home = tmp_path / "home"
    insurers = tmp_path / "insurers.csv"
    insurers.write_text(
        "code,name,share\nA01,Insurer A,0.5\nB02,Insurer B,0.3\nC03,Insurer C,0.2\n", "utf-8"
    )
    env = {
        "ERZL_HOME": str(home),
        "ERZL_DATABASE_URL": database_url,
        "ERZL_FUND_REGION": "45",
        "ERZL_INSURERS": str(insurers),
        # files the tests drop are complete when written: no settle interval to wait out
        "ERZL_SETTLE_SECONDS": "0",
    }
    for key in [k for k in os.environ if k.startswith("ERZL_") and k not in env]:
        if not key.startswith("ERZL_TEST") and key != "ERZL_SHARED_REFERENCE":
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(erzl_env) -> config.Settings:
    s = config.load(erzl_env)
    from pipelines.run import ensure_schema

    ensure_schema(s)
    return s
