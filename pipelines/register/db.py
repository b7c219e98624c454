"""Engines, sessions and migrations for the register, on SQLite (default) or PostgreSQL."""

from __future__ import annotations

import functools
import operator
import os
import zlib
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


SQLITE_CACHED_STATEMENTS = 16


@functools.cache
def _engine(url: str) -> Engine:
    # hide_parameters: an error's text never carries the values of the statement (names, СНИЛС)
    if url.startswith("sqlite"):
        # cached_statements: the driver keeps 128 prepared statements by default, and bulk
        # writes make a multi-row INSERT of a new size for each batch's last page, each a large
        # compiled program: memory grew ~6 MiB per batch of births. 16 keeps the reused ones.
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "cached_statements": SQLITE_CACHED_STATEMENTS},
            hide_parameters=True,
        )

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


def among(session: Session, column, values) -> sa.ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter however
    many values. An IN list of thousands is a statement of thousands of parameters, of a new
    text for every length: psycopg split each such text anew (half a second per 10k births)
    and the server planned it anew."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))


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


# Fewer rows than this go as plain statements: a COPY costs a round trip or two more (keys
# drawn first; a stage created, emptied and read), which only pays off over many rows.
COPY_MIN_ROWS = 64


def _postgresql(session: Session, rows: list) -> bool:
    """Whether ``rows`` go by COPY: PostgreSQL, and enough of them."""
    return len(rows) >= COPY_MIN_ROWS and session.get_bind().dialect.name == "postgresql"


def _copy(session: Session, table_name: str, columns: list[str], rows: Iterator[tuple]) -> None:
    """COPY ``rows`` (tuples of driver-ready values, in ``columns`` order) into a PostgreSQL
    table, on the session's connection and inside its transaction."""
    import psycopg

    raw = session.connection().connection.driver_connection
    sql = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:  # reported as any other database error (E101)
        raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def _copy_values(
    session: Session,
    table,
    rows: list[dict],
    order: list[str] | None = None,
    *,
    defaults: bool = True,
) -> tuple[list[str], Iterator[tuple]]:
    """The columns and the driver-ready values of ``rows`` as an INSERT of them would send:
    a column a row leaves out takes its Python-side default, each value goes through its
    type's bind processing (JSON serialised, …). Columns with a server default and no value in
    the rows are left to the server. The columns come in ``order`` when it is given (it must
    name the same ones). Without ``defaults`` (an UPDATE) only the rows' own columns go."""
    dialect = session.get_bind().dialect
    given = list(rows[0])
    # (callable, value): a callable default is SQLAlchemy's wrapper, taking an execution context
    defaults = {
        column.name: (column.default.is_callable, column.default.arg)
        for column in (table.columns if defaults else ())
        if column.name not in rows[0]
        and column.default is not None
        and (column.default.is_scalar or column.default.is_callable)
    }
    names = given + list(defaults)
    if order is not None:
        if sorted(order) != sorted(names):
            raise ValueError(f"{table.name}: the statement binds {order}, the rows give {names}")
        names = order
    process = [
        (i, processor)
        for i, name in enumerate(names)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    constant = {name: arg for name, (is_callable, arg) in defaults.items() if not is_callable}
    called = [(name, arg) for name, (is_callable, arg) in defaults.items() if is_callable]
    take = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

    def values() -> Iterator[tuple]:
        for row in rows:
            if defaults:
                row = {**row, **constant, **{name: arg(None) for name, arg in called}}
            out = take(row)
            if process:
                out = list(out)
                for i, processor in process:
                    if out[i] is not None:
                        out[i] = processor(out[i])
                out = tuple(out)
            yield out

    return names, values()


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _sqlite_many(session: Session, stmt, table, rows: list[dict]) -> None:
    """Execute ``stmt``, an INSERT (or upsert) of ``table``, for each of ``rows`` as one
    driver ``executemany`` of ready tuples. Handing SQLAlchemy the dicts cost two to three
    times the driver's own time: it builds and bind-processes each row's parameters again for
    every statement. Here the statement is compiled once, the values are processed as the
    COPY path processes them, and any constant the statement binds (an upsert's WHERE) is
    processed once."""
    dialect = session.get_bind().dialect
    names, _ = _copy_values(session, table, rows[:1])
    compiled = stmt.compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup or ())
    columns = [name for name in order if name in names]  # the table's order, not the rows'
    _, values = _copy_values(session, table, rows, columns)
    if columns == order:
        params: list[tuple] = list(values)
    else:  # the statement binds constants of its own beyond the rows' values
        constants = {}
        for name in order:
            if name in names:
                continue
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            value = bind.effective_value
            constants[name] = processor(value) if processor and value is not None else value
        # each row's values with the constants after them, picked into the statement's order
        extra = tuple(constants.values())
        at = {name: i for i, name in enumerate([*columns, *constants])}
        pick = operator.itemgetter(*(at[name] for name in order))
        params = [pick(row + extra) for row in values]
    session.connection().exec_driver_sql(compiled.string, params)


def insert_rows(session: Session, table, rows: list[dict], *, returning: bool = True) -> list:
    """INSERT ``rows`` in bulk: on PostgreSQL one ``COPY`` (the new keys drawn beforehand from
    the table's sequence, in one statement), on SQLite one driver ``executemany``.
    The new primary keys, in the order of ``rows``, unless ``returning`` is off.
    Every row names the same columns."""
    if not rows:
        return []
    key = next(iter(table.primary_key.columns))
    if _postgresql(session, rows):
        ids: list = []
        if returning:
            sequence = session.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": key.name},
            )
            ids = sorted(
                session.scalars(
                    text("SELECT nextval(:sequence) FROM generate_series(1, :n)"),
                    {"sequence": sequence, "n": len(rows)},
                )
            )
            rows = [{**row, key.name: id_} for row, id_ in zip(rows, ids, strict=True)]
        _copy(session, table.name, *_copy_values(session, table, rows))
        return ids
    if _sqlite(session):
        _sqlite_many(session, sa.insert(table), table, rows)
        if not returning:
            return []
        # The transaction holds SQLite's one write lock and each row inserted takes the next
        # rowid (the largest one plus one, or the table's AUTOINCREMENT sequence plus one), so
        # the rows' keys are the ones that end at the last rowid the connection inserted.
        # Counted back, in case a table ever breaks that rule.
        last = session.scalar(text("SELECT last_insert_rowid()"))
        first = last - len(rows) + 1
        found = session.scalar(
            sa.select(sa.func.count()).select_from(table).where(key.between(first, last))
        )
        if found != len(rows):
            raise RuntimeError(f"{table.name}: the new rows' keys are not one run of rowids")
        return list(range(first, last + 1))
    if not returning:
        session.execute(sa.insert(table), rows)
        return []
    result = session.execute(sa.insert(table).returning(key, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def _staged(session: Session, table, names: list[str], values: Iterator[tuple]) -> str:
    """COPY ``values`` into an emptied temporary table of ``table``'s ``names`` columns (one per
    column set, dropped at commit); its name."""
    stage = f"_stage_{table.name}_{zlib.crc32(','.join(names).encode()):08x}"
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
            f"SELECT {', '.join(names)} FROM {table.name} WITH NO DATA"
        )
    )
    session.execute(text(f"TRUNCATE {stage}"))
    _copy(session, stage, names, values)
    return stage


def insert_many(session: Session, table, rows: list[dict], keys: list[str], build) -> None:
    """Execute ``build(insert)`` — an INSERT of ``table`` made into an upsert by the caller,
    ``excluded`` naming the new row — for all ``rows``. On PostgreSQL the rows are staged by
    ``COPY`` in a temporary table and inserted from it with one statement; rows repeating a
    conflict key (which one such statement cannot take) go one statement per row, in order, as
    they do on SQLite."""
    if not rows:
        return
    if _sqlite(session):  # executemany goes a row at a time, in order: repeats need no care
        _sqlite_many(session, build(dialect_insert(session, table)), table, rows)
        return
    seen = {tuple(row[k] for k in keys) for row in rows}
    if not _postgresql(session, rows) or len(seen) != len(rows):
        session.execute(build(dialect_insert(session, table)), rows)
        return
    names, values = _copy_values(session, table, rows)
    stage = _staged(session, table, names, values)
    staged = sa.table(stage, *(sa.column(name) for name in names))
    source = sa.select(*(staged.c[name] for name in names))
    session.execute(build(dialect_insert(session, table).from_select(names, source)))


def update_many(session: Session, table, rows: list[dict], key: str = "id") -> None:
    """UPDATE ``table`` SET the other columns of each row WHERE ``key`` is the row's. On
    PostgreSQL the rows are staged by ``COPY`` and applied with one ``UPDATE … FROM`` (psycopg
    sends an executemany as a statement per row); on SQLite one driver ``executemany``. Every
    row names the same columns; a key repeated goes a statement per row, in order."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if _sqlite(session):
        _, values = _copy_values(session, table, rows, [*columns, key], defaults=False)
        assignments = ", ".join(f"{name} = ?" for name in columns)
        sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = ?"
        session.connection().exec_driver_sql(sql, list(values))
        return
    if not _postgresql(session, rows) or len({row[key] for row in rows}) != len(rows):
        stmt = (
            sa.update(table)
            .where(table.c[key] == sa.bindparam("_key"))
            .values({name: sa.bindparam(f"_set_{name}") for name in columns})
        )
        params = [{"_key": r[key], **{f"_set_{n}": r[n] for n in columns}} for r in rows]
        session.execute(stmt, params)
        return
    names, values = _copy_values(session, table, rows, [key, *columns], defaults=False)
    stage = _staged(session, table, names, values)
    assignments = ", ".join(f"{name} = s.{name}" for name in columns)
    sql = f"UPDATE {table.name} AS t SET {assignments} FROM {stage} AS s WHERE t.{key} = s.{key}"
    session.execute(text(sql))


def upsert(session: Session, table, rows: list[dict], keys: list[str], where=None, keep=()) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE the other columns, optionally only ``where``; the
    columns in ``keep`` keep their stored value when the new row has none."""
    if not rows:
        return
    columns = [c for c in rows[0] if c not in keys]

    def build(stmt):
        return stmt.on_conflict_do_update(
            index_elements=keys,
            set_={
                c: sa.func.coalesce(stmt.excluded[c], table.c[c]) if c in keep else stmt.excluded[c]
                for c in columns
            },
            where=where(table, stmt.excluded) if where else None,
        )

    insert_many(session, table, rows, keys, build)
