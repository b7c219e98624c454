"""Engines, sessions and migrations for the register, on SQLite (default) or PostgreSQL."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from pipelines import faults
from pipelines.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@functools.cache
def _engine(url: str) -> Engine:
    # hide_parameters: an error's text never carries the values of the statement (names, СНИЛС)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)

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
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _name_connection(dbapi_connection, _record) -> None:
        # each process' connections carry its pid, so an operator (or the pgterm fault) can
        # find them in pg_stat_activity
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET application_name = 'erzl-{os.getpid()}'")
        dbapi_connection.commit()

    return engine


def reset_after_fork() -> None:
    """In a forked child: forget the parent's pooled connections without closing them."""
    for url in list(_known_urls):
        _engine(url).dispose(close=False)
    _engine.cache_clear()
    _known_urls.clear()


_known_urls: set[str] = set()


def _terminate_own_connections() -> None:
    """The ``pgterm`` fault: end this process' PostgreSQL sessions from a second connection."""
    pid = os.getpid()
    for url in list(_known_urls):
        if not url.startswith("postgresql"):
            continue
        other = create_engine(
            url, isolation_level="AUTOCOMMIT", poolclass=NullPool, hide_parameters=True
        )
        with other.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": f"erzl-{pid}"},
            )
        other.dispose()


faults.register("pgterm", _terminate_own_connections)


def engine(settings: Settings) -> Engine:
    if settings.database_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    _known_urls.add(settings.database_url)
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


def insert_rows(session: Session, table, rows: list[dict], *, returning: bool = True) -> list:
    """INSERT ``rows`` with one statement (batched by SQLAlchemy's insertmanyvalues on both
    backends); the new primary keys, in the order of ``rows``, unless ``returning`` is off."""
    if not rows:
        return []
    if not returning:
        session.execute(sa.insert(table), rows)
        return []
    key = next(iter(table.primary_key.columns))
    if session.get_bind().dialect.name == "sqlite":
        # SQLAlchemy cannot prove SQLite's RETURNING order, so with sort_by_parameter_order it
        # falls back to a statement per row. It need not: the transaction holds SQLite's one
        # write lock and each row of a multi-row INSERT gets the next rowid, so the new keys in
        # ascending order are the rows in order.
        return sorted(session.execute(sa.insert(table).returning(key), rows).scalars())
    result = session.execute(sa.insert(table).returning(key, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def upsert(session: Session, table, rows: list[dict], keys: list[str], where=None, keep=()) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE the other columns, optionally only ``where``; the
    columns in ``keep`` keep their stored value when the new row has none."""
    if not rows:
        return
    stmt = dialect_insert(session, table)
    columns = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={
            c: sa.func.coalesce(stmt.excluded[c], table.c[c]) if c in keep else stmt.excluded[c]
            for c in columns
        },
        where=where(table, stmt.excluded) if where else None,
    )
    session.execute(stmt, rows)
