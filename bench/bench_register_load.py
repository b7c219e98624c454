"""`erzl register load` figures: one generated register CSV loaded into a fresh PostgreSQL
database and a fresh SQLite file, beside plain COPY of the same CSV into a bare table with the
same columns on the same server in the same run.

A second floor is measured too: COPY of ready-made rows straight into the register's own five
tables (their indexes and foreign keys as the migrations made them), which no loader of this
schema can beat. Prints rows per second, the load's share of each floor, peak RSS and SQL
statements per row; ``--json PATH`` writes the same figures. Figures are printed, never
asserted.

    python bench/bench_register_load.py [--rows 1000000] [--json figures.json]

The PostgreSQL admin connection is ERZL_BENCH_PG_URL (default: the local server as postgres);
the benchmark creates its own database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, text

from pipelines import config, run
from pipelines.enrol.register_load import COLUMNS, DOCUMENT_COLUMNS, load_register
from pipelines.enrol.register_ops import PERSON_FIELDS, name_key
from pipelines.identifiers import enp_compose, snils_check_digits
from pipelines.register import db

ADMIN_URL = os.environ.get(
    "ERZL_BENCH_PG_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)
LAST = ["Иванова", "Петров", "Семёнова", "Ким", "Иванова-Петрова", "Сидоров", "Кузнецова"]
FIRST = ["Анна", "Мария", "Пётр", "Иван", "Ольга", "Сергей"]
MIDDLE = ["Ивановна", "", "Петрович", "Сергеевна", "Андреевич"]
INSURERS = ["A01", "B02", "C03", ""]
# the bare table COPY fills: the file's columns with the register's types
FLOOR_TABLE = """CREATE TABLE copy_floor (
    enp varchar(16), snils varchar(11), last_name varchar(200), first_name varchar(200),
    middle_name varchar(200), birth_date date, sex integer, insurer_code varchar(20),
    policy_status varchar(20), document_kind varchar(40), document_series varchar(20),
    document_number varchar(40))"""


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` distinct persons (every ЕНП and СНИЛС unique), streamed to disk: 80 % with a
    СНИЛС, 70 % with a document, 75 % with an insurer."""
    rng = random.Random(seed)
    serials: dict[date, int] = {}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*COLUMNS, *DOCUMENT_COLUMNS])
        for i in range(rows):
            born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 95 * 365))
            n = serials[born] = serials.get(born, 0) + 1
            index, serial = divmod(n - 1, 9999)
            first9 = f"{100_000_000 + i:09d}"
            has_document = rng.random() < 0.7
            writer.writerow(
                [
                    enp_compose("45", index, born, serial + 1),
                    first9 + snils_check_digits(first9) if rng.random() < 0.8 else "",
                    rng.choice(LAST),
                    rng.choice(FIRST),
                    rng.choice(MIDDLE),
                    born.isoformat(),
                    rng.choice("12"),
                    rng.choice(INSURERS),
                    "active",
                    "21" if has_document else "",
                    f"{rng.randrange(100):02d} {rng.randrange(100):02d}" if has_document else "",
                    f"{rng.randrange(10**6):06d}" if has_document else "",
                ]
            )


def copy_floor(url: str, path: Path) -> float:
    """Seconds for COPY of the CSV into a bare table (created first, not timed), committed."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(FLOOR_TABLE))
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            started = time.perf_counter()
            with (
                raw.cursor() as cursor,
                cursor.copy("COPY copy_floor FROM STDIN (FORMAT csv, HEADER true)") as copy,
                path.open("rb") as fh,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
        seconds = time.perf_counter() - started  # the commit included
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE copy_floor"))
    finally:
        engine.dispose()
    return seconds


REGISTER_TABLES = {  # what the load writes per row, in the order the foreign keys need
    "persons": "id, snils, last_name, first_name, middle_name, birth_date, sex, insurer_code,"
    " origin, version, name_key",
    "policies": "enp, person_id, kind, status, reason",
    "identity_documents": "person_id, kind, series, number, current",
    "insurer_assignments": "person_id, insurer_code, assigned_on, basis",
    "person_history": "person_id, version, change, data, changed_at",
}


def register_files(path: Path, folder: Path) -> dict[str, Path]:
    """The rows the load would write, one CSV per register table (person ids 1…N)."""
    today, now = date.today().isoformat(), datetime.now(UTC).isoformat()
    files = {table: folder / f"{table}.csv" for table in REGISTER_TABLES}
    handles = {table: f.open("w", encoding="utf-8", newline="") for table, f in files.items()}
    out = {table: csv.writer(fh) for table, fh in handles.items()}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for pid, row in enumerate(csv.DictReader(fh), start=1):
                born = date.fromisoformat(row["birth_date"])
                person = {
                    "snils": row["snils"] or None,
                    "last_name": row["last_name"],
                    "first_name": row["first_name"],
                    "middle_name": row["middle_name"] or None,
                    "birth_date": row["birth_date"],
                    "sex": int(row["sex"]),
                    "insurer_code": row["insurer_code"] or None,
                }
                key = name_key(
                    person["last_name"], person["first_name"], person["middle_name"], born
                )
                out["persons"].writerow([pid, *person.values(), "register_load", 1, key])
                out["policies"].writerow([row["enp"], pid, "electronic", "active", "register_load"])
                if row["document_number"]:
                    out["identity_documents"].writerow(
                        [
                            pid,
                            row["document_kind"],
                            row["document_series"],
                            row["document_number"],
                            "t",
                        ]
                    )
                if person["insurer_code"]:
                    out["insurer_assignments"].writerow(
                        [pid, person["insurer_code"], today, "register_load"]
                    )
                data = json.dumps({name: person.get(name) for name in PERSON_FIELDS})
                out["person_history"].writerow([pid, 1, "created", data, now])
    finally:
        for handle in handles.values():
            handle.close()
    return files


def register_floor(url: str, path: Path, folder: Path) -> float:
    """Seconds for COPY of the rows the load writes into the register's tables (the files
    made first, not timed), committed; the tables are emptied again afterwards."""
    files = register_files(path, folder)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for code in INSURERS:
                if code:
                    conn.execute(
                        text(
                            "INSERT INTO insurers (code, name, share, active, share_count,"
                            " share_deficit) VALUES (:c, :c, 0, false, 0, 0)"
                        ),
                        {"c": code},
                    )
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            started = time.perf_counter()
            with raw.cursor() as cursor:
                for table, columns in REGISTER_TABLES.items():
                    sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
                    with cursor.copy(sql) as copy, files[table].open("rb") as fh:
                        while block := fh.read(1 << 20):
                            copy.write(block)
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            tables = ", ".join([*REGISTER_TABLES, "insurers"])
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
        for f in files.values():
            f.unlink()
    return seconds


def timed_load(settings: config.Settings, path: Path) -> dict:
    """Seconds for load_register (committed), the statements SQLAlchemy sent, the counts."""
    run.ensure_schema(settings)
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    engine = db.engine(settings)
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        with db.session_scope(settings) as session:
            counts = load_register(session, path)
        seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
        db.dispose(settings)
    return {"seconds": seconds, "statements": statements, "counts": dict(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    figures: dict = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / "register.csv"
        started = time.perf_counter()
        write_csv(path, args.rows)
        figures["csv_mib"] = round(path.stat().st_size / 2**20, 1)
        print(
            f"generated {args.rows:,d} rows, {figures['csv_mib']} MiB, in "
            f"{time.perf_counter() - started:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB"
        )

        name = f"erzl_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        try:
            settings = config.load({"ERZL_HOME": str(home / "pg"), "ERZL_DATABASE_URL": url})
            run.ensure_schema(settings)
            db.dispose(settings)
            floor = copy_floor(url, path)
            figures["copy"] = {"seconds": round(floor, 2), "rows_per_s": round(args.rows / floor)}
            print(
                f"COPY, bare table  {floor:7.1f} s  {args.rows / floor:10,.0f} rows/s  "
                f"peak RSS {peak_rss_mib():,.0f} MiB"
            )
            floor = register_floor(url, path, home)
            figures["copy_register_tables"] = {
                "seconds": round(floor, 2),
                "rows_per_s": round(args.rows / floor),
            }
            print(
                f"COPY, register    {floor:7.1f} s  {args.rows / floor:10,.0f} rows/s  "
                f"(ready-made rows into the five tables: this schema's floor)"
            )
            pg = figures["postgresql"] = _report(
                "PostgreSQL load", timed_load(settings, path), args
            )
            pg["share_of_copy"] = round(pg["rows_per_s"] / figures["copy"]["rows_per_s"], 3)
            pg["share_of_register_copy"] = round(
                pg["rows_per_s"] / figures["copy_register_tables"]["rows_per_s"], 3
            )
            print(
                f"                  {pg['share_of_copy']:7.1%} of bare COPY's rate, "
                f"{pg['share_of_register_copy']:.1%} of COPY into the register's tables"
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        if not args.skip_sqlite:
            sqlite = home / "register.sqlite3"
            settings = config.load(
                {"ERZL_HOME": str(home / "sqlite"), "ERZL_DATABASE_URL": f"sqlite:///{sqlite}"}
            )
            figures["sqlite"] = _report("SQLite load", timed_load(settings, path), args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")


def _report(label: str, result: dict, args) -> dict:
    rate = args.rows / result["seconds"]
    figure = {
        "seconds": round(result["seconds"], 2),
        "rows_per_s": round(rate),
        "statements": result["statements"],
        "statements_per_row": result["statements"] / args.rows,
        "peak_rss_mib": round(peak_rss_mib()),
        "counts": result["counts"],
    }
    print(
        f"{label:17s} {result['seconds']:7.1f} s  {rate:10,.0f} rows/s  "
        f"{result['statements']} statements ({figure['statements_per_row']:.5f} per row; "
        f"COPY streams not counted)  peak RSS {figure['peak_rss_mib']:,d} MiB  "
        f"{result['counts']}"
    )
    return figure


if __name__ == "__main__":
    main()
