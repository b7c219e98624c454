"""The initial load of the fund's existing register from CSV (``erzl register load``).

The file is read in chunks: each row is checked in Python, then each chunk is staged in a
temporary table (COPY on PostgreSQL, one executemany on SQLite) and applied with one
INSERT … SELECT per register table, so the statements sent grow with the chunks, not the rows.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Date, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pipelines.enrol.register_ops import PERSON_FIELDS, Provenance, ensure_insurer, name_key
from pipelines.identifiers import enp_is_valid, snils_is_valid, snils_normalize
from pipelines.register.models import PersonHistory

COLUMNS = (
    "enp",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer_code",
    "policy_status",
)
# Optional: the identity document on file, which confirms a link by name and birth date (a
# mother found without a СНИЛС, pipelines.link). Files without these columns load as before.
DOCUMENT_COLUMNS = ("document_kind", "document_series", "document_number")
STATUSES = {"active", "suspended", "lapsed", "closed"}
CHUNK_ROWS = 50_000  # rows per chunk: memory is bounded by this, not by the file

# A checked row as it is staged, in this order (birth_date as ISO text; the document columns
# empty when the row names no document number).
STAGED = (
    "enp",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer_code",
    "status",
    "document_kind",
    "document_series",
    "document_number",
    "name_key",
)
_ENP, _SNILS, _INSURER = 0, 1, 7
_STAGE = "erzl_register_load"


class LoadError(ValueError):
    """A row of the load file is unusable; the message names the line, never its values."""


@dataclass(frozen=True)
class LoadProgress:
    """How far a load is, after each chunk: counts and bytes only, never values."""

    rows: int  # rows read so far
    loaded: int
    already_present: int
    bytes_read: int
    bytes_total: int


def load_register(
    session: Session,
    path: Path,
    *,
    run_id: str | None = None,
    chunk_rows: int | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
) -> Counter:
    """Insert every person of the file that is not there yet (keyed by ЕНП, then СНИЛС).

    A row whose ЕНП a policy holds, or whose СНИЛС a person holds — in the register or in an
    earlier row of the file — is ``already_present`` and left alone. The whole file is one
    transaction (the caller's): a bad row stops the load with its line number and nothing is
    written. Loading the same file again changes nothing. ``progress`` hears of each chunk
    written (rows read so far, their outcomes, bytes read).
    """
    counts: Counter = Counter()
    session.flush()
    stage: _Stage | None = None
    rows = 0
    # closing: on an error here the reader thread stops now, not when the frame is collected
    with closing(_ahead(_chunks(path, chunk_rows or CHUNK_ROWS))) as chunks:
        for chunk, bytes_read, bytes_total in chunks:
            rows += len(chunk)
            new = _new_rows(session, chunk)
            counts["already_present"] += len(chunk) - len(new)
            if new:
                for code in sorted({r[_INSURER] for r in new if r[_INSURER]}):
                    ensure_insurer(session, code)
                stage = stage or _Stage(session, Provenance(run_id))
                stage.apply(new)
                counts["loaded"] += len(new)
            if progress is not None:
                progress(
                    LoadProgress(
                        rows, counts["loaded"], counts["already_present"], bytes_read, bytes_total
                    )
                )
    if stage is not None:
        stage.drop()
    return counts


# --- reading and checking ---------------------------------------------------------------------


def _chunks(path: Path, size: int) -> Iterator[tuple[list[tuple], int, int]]:
    """The checked rows of the file, ``size`` at a time, with the bytes read so far and the
    file's size. Line numbers count the header as line 1 and skip blank lines, as
    csv.DictReader does."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        total = os.fstat(fh.fileno()).st_size
        reader = csv.reader(fh)
        header = next(reader, None) or []
        missing = set(COLUMNS) - set(header)
        if missing:
            raise LoadError(f"missing column(s): {', '.join(sorted(missing))}")
        where = {name: i for i, name in enumerate(header)}  # a repeated name: the last one
        positions = [where.get(name) for name in (*COLUMNS, *DOCUMENT_COLUMNS)]
        chunk: list[tuple] = []
        line_no = 1
        for fields in reader:
            if not fields:
                continue
            line_no += 1
            n = len(fields)
            values = [fields[i].strip() if i is not None and i < n else "" for i in positions]
            chunk.append(_parse(values, line_no))
            if len(chunk) >= size:
                yield chunk, fh.buffer.tell(), total
                chunk = []
        if chunk:
            yield chunk, total, total


def _parse(values: list[str], line_no: int) -> tuple:
    enp, snils, last, first, middle, birth, sex, insurer, status, kind, series, number = values
    if not enp_is_valid(enp):
        raise LoadError(f"line {line_no}: enp is not a valid 16-digit ЕНП")
    if snils and not snils_is_valid(snils):
        raise LoadError(f"line {line_no}: snils has a wrong check digit")
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        raise LoadError(f"line {line_no}: birth_date is not YYYY-MM-DD") from None
    if sex not in ("", "1", "2"):
        raise LoadError(f"line {line_no}: sex must be 1 or 2")
    if status and status not in STATUSES:
        raise LoadError(f"line {line_no}: policy_status must be one of {sorted(STATUSES)}")
    last, first, middle = last or None, first or None, middle or None
    return (
        enp,
        snils_normalize(snils) if snils else None,
        last,
        first,
        middle,
        born.isoformat(),
        int(sex) if sex else None,
        insurer or None,
        status or "active",
        (kind or "21") if number else None,
        (series or None) if number else None,
        number or None,
        name_key(last, first, middle, born),
    )


def _ahead(items: Generator) -> Generator:
    """The items of ``items``, the next one made in a thread while the caller works on this
    one: the file is read and checked while the database writes the chunk before. An error
    of the reader is raised here, in order; when the caller stops, the reader stops too."""
    box: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((end, exc))
        finally:
            items.close()

    reader = threading.Thread(target=read, name="erzl-register-load-reader", daemon=True)
    reader.start()
    try:
        while True:
            item, error = box.get()
            if error is not None:
                raise error
            if item is end:
                return
            yield item
    finally:
        stop.set()
        reader.join()


# --- deciding and writing ---------------------------------------------------------------------


def _new_rows(session: Session, chunk: list[tuple]) -> list[tuple]:
    """The rows of the chunk to load, in order: those whose ЕНП and СНИЛС neither the register
    nor a row loaded before them holds (two set queries)."""
    held_enps = _held(session, "policies", "enp", [r[_ENP] for r in chunk])
    held_snils = _held(session, "persons", "snils", [r[_SNILS] for r in chunk if r[_SNILS]])
    new = []
    for row in chunk:
        enp, snils = row[_ENP], row[_SNILS]
        if enp in held_enps or (snils and snils in held_snils):
            continue
        held_enps.add(enp)
        if snils:
            held_snils.add(snils)
        new.append(row)
    return new


def _held(session: Session, table: str, column: str, values: list[str]) -> set[str]:
    """Which of ``values`` the register holds in ``table.column`` (indexed), in one query."""
    if not values:
        return set()
    # Probe the index once per value, never scan the table: whatever the planner thinks of
    # a table that grew inside this transaction (its statistics predate the load), a LATERAL
    # subquery with LIMIT (PostgreSQL) or a CROSS JOIN (SQLite) fixes the order.
    if session.get_bind().dialect.name == "postgresql":
        query = (
            f"SELECT t.{column} FROM unnest(CAST(:values AS text[])) AS v (value)"
            f" CROSS JOIN LATERAL (SELECT {column} FROM {table} WHERE {column} = v.value"
            " LIMIT 1) AS t"
        )
        return set(session.scalars(text(query), {"values": values}))
    query = (
        f"SELECT t.{column} FROM json_each(:values) AS v CROSS JOIN {table} AS t"
        f" ON t.{column} = v.value"
    )
    return set(session.scalars(text(query), {"values": json.dumps(values)}))


class _Stage:
    """The temporary table a chunk is staged in, and the statements that apply it."""

    def __init__(self, session: Session, prov: Provenance) -> None:
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        if self.pg:
            # each staged row draws its person id from the persons sequence as COPY adds it
            seq = session.scalar(text("SELECT pg_get_serial_sequence('persons', 'id')"))
            quoted = "'" + seq.replace("'", "''") + "'"
            person_id = f"integer NOT NULL DEFAULT nextval({quoted})"
            birth_date = "date"
        else:
            person_id, birth_date = "integer NOT NULL", "text"
        types = {"birth_date": birth_date, "sex": "integer"}
        columns = ", ".join(f"{name} {types.get(name, 'text')}" for name in STAGED)
        on_commit = " ON COMMIT DROP" if self.pg else ""
        session.execute(
            text(f"CREATE TEMPORARY TABLE {_STAGE} (person_id {person_id}, {columns}){on_commit}")
        )
        self.statements = _apply_statements(self.pg, prov)

    def apply(self, rows: list[tuple]) -> None:
        session = self.session
        if self.pg:
            import psycopg

            raw = session.connection().connection.driver_connection
            sql = f"COPY {_STAGE} ({', '.join(STAGED)}) FROM STDIN"
            try:
                with raw.cursor() as cursor, cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            except psycopg.Error as exc:  # reported as any other database error (E101)
                raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
        else:  # SQLite: ids as SQLite gives them, the write lock is held (BEGIN IMMEDIATE)
            base = session.scalar(text("SELECT coalesce(max(id), 0) FROM persons"))
            marks = ", ".join("?" * (len(STAGED) + 1))
            session.connection().exec_driver_sql(
                f"INSERT INTO {_STAGE} VALUES ({marks})",
                [(base + i, *row) for i, row in enumerate(rows, start=1)],
            )
        for statement in self.statements:
            session.execute(statement)
        session.execute(text(f"{'TRUNCATE' if self.pg else 'DELETE FROM'} {_STAGE}"))

    def drop(self) -> None:
        self.session.execute(text(f"DROP TABLE {_STAGE}"))


def _apply_statements(pg: bool, prov: Provenance) -> list:
    """Persons, their policies, documents, insurer assignments and history rows from the
    stage: what register_ops.create_person and the row-by-row load wrote, row for row."""
    staged = set(STAGED)
    if pg:  # row_to_json of a row named as PERSON_FIELDS: half the cost of json_build_object
        born = "to_char(s.birth_date, 'YYYY-MM-DD')"
        fields = ", ".join(
            (born if name == "birth_date" else f"s.{name}" if name in staged else "NULL")
            + f" AS {name}"
            for name in PERSON_FIELDS
        )
        snapshot = "row_to_json(d)"
        source = f"{_STAGE} AS s CROSS JOIN LATERAL (SELECT {fields}) AS d"
    else:  # SQLite keeps dates as ISO text
        fields = ", ".join(
            f"'{name}', " + (name if name in staged else "NULL") for name in PERSON_FIELDS
        )
        snapshot, source = f"json_object({fields})", f"{_STAGE} AS s"
    person = "snils, last_name, first_name, middle_name, birth_date, sex, insurer_code, name_key"
    sql = [
        f"INSERT INTO persons (id, {person}, origin, version, included_on)"
        f" SELECT person_id, {person}, 'register_load', 1, NULL FROM {_STAGE}",
        "INSERT INTO policies (enp, person_id, kind, status, reason)"
        f" SELECT enp, person_id, 'electronic', status, 'register_load' FROM {_STAGE}",
        "INSERT INTO identity_documents (person_id, kind, series, number, current)"
        f" SELECT person_id, document_kind, document_series, document_number, TRUE"
        f" FROM {_STAGE} WHERE document_number IS NOT NULL",
        "INSERT INTO insurer_assignments (person_id, insurer_code, assigned_on, basis)"
        f" SELECT person_id, insurer_code, :today, 'register_load'"
        f" FROM {_STAGE} WHERE insurer_code IS NOT NULL",
        "INSERT INTO person_history"
        " (person_id, version, change, data, run_id, file_id, record_id, changed_at)"
        f" SELECT s.person_id, 1, 'created', {snapshot}, :run_id, NULL, NULL, :now"
        f" FROM {source}",
    ]
    values = {
        "today": bindparam("today", date.today(), type_=Date()),
        "run_id": bindparam("run_id", prov.run_id),
        "now": bindparam("now", datetime.now(UTC), type_=PersonHistory.__table__.c.changed_at.type),
    }
    return [
        text(s).bindparams(*(value for name, value in values.items() if f":{name}" in s))
        for s in sql
    ]
