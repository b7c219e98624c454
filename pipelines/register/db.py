"""Engines, sessions and migrations for the register, on SQLite (default) or PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from pipelines.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@functools.cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below holds.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn) -> None:
            # Take the write lock up front: two runs racing on one SQLite file then queue
            # instead of failing with "database is locked" on a lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def engine(settings: Settings) -> Engine:
    if settings.database_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    return _engine(settings.database_url)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    factory = sessionmaker(engine(settings), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def alembic_config(settings: Settings):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["engine"] = engine(settings)
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply the migrations (``erzl db upgrade``); safe to call on every start."""
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


def dialect_insert(session: Session, table):
    """An INSERT that knows ON CONFLICT, for the dialect of the session (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_ignore(session: Session, table, values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either dialect; True when the row was inserted."""
    stmt = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg does not report a row count for this statement
    stmt = stmt.returning(*table.primary_key.columns)
    return session.execute(stmt).first() is not None


def as_utc(moment: datetime) -> datetime:
    """Timestamps are stored in UTC; SQLite hands them back without the zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dispose(settings: Settings) -> None:
    """Close the pooled connections of this database (tests, and the end of a CLI call)."""
    _engine(settings.database_url).dispose()


def upsert(session: Session, table, rows: list[dict], keys: list[str], where=None) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE the other columns, optionally only ``where``."""
    if not rows:
        return
    stmt = dialect_insert(session, table)
    columns = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c: stmt.excluded[c] for c in columns},
        where=where(table, stmt.excluded) if where else None,
    )
    session.execute(stmt, rows)
