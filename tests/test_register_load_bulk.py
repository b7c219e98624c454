"""``erzl register load`` in chunks gives the register the row-by-row load gave: the same
persons, policies, documents, assignments and history, the same "already present" rows, one
transaction for the whole file, and a number of statements that grows with the chunks."""

from __future__ import annotations

import csv
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from pipelines import cli
from pipelines.check import check
from pipelines.enrol import register_load
from pipelines.enrol.register_load import LoadError, load_register
from pipelines.enrol.register_ops import PERSON_FIELDS, Provenance, create_person, name_key
from pipelines.identifiers import enp_compose, snils_check_digits, snils_format
from pipelines.register import db
from pipelines.register.models import (
    IdentityDocument,
    Insurer,
    InsurerAssignment,
    Person,
    PersonHistory,
    Policy,
    Run,
)

HEADER = [*register_load.COLUMNS, *register_load.DOCUMENT_COLUMNS]
LAST = ["Иванова", "Петров", "Семёнова", "Ким", "Иванова-Петрова", " Сидоров ", "Aнна"]
FIRST = ["Анна", "Мария", "Пётр", "Иван", "", "Ольга"]
MIDDLE = ["Ивановна", "", "Петрович", "Сергеевна"]
INSURERS = ["A01", "B02", "C03", "Z99", ""]  # Z99: named by the file only, not configured
RUN = "register-load-test"
SEEDED = 40  # persons in the register before the load


class Serials:
    """ЕНП never used before in the test."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, born: date) -> str:
        self.n += 1
        index, serial = divmod(self.n - 1, 9999)
        return enp_compose("45", index, born, serial + 1)


def _snils(rng: random.Random) -> str:
    first9 = f"{rng.randrange(2_000_000, 999_999_999):09d}"
    return first9 + snils_check_digits(first9)


def _born(rng: random.Random) -> date:
    return date(1930, 1, 1) + timedelta(days=rng.randrange(0, 95 * 365))


def _seed_register(settings, rng: random.Random, enp: Serials) -> list[tuple[str, str]]:
    """Persons already in the register (as any feed makes them), and a run for provenance;
    their (ЕНП, СНИЛС)."""
    held = []
    with db.session_scope(settings) as session:
        now = datetime.now(UTC)
        session.add(
            Run(
                id=RUN,
                trigger="cli",
                as_of=date(2026, 3, 2),
                started_at=now,
                finished_at=now,
                status="finished",
            )
        )
        for _ in range(SEEDED):
            born, snils = _born(rng), _snils(rng)
            person = create_person(
                session,
                Provenance(None),
                origin="zags_births",
                included_on=date(2026, 1, 1),
                snils=snils,
                last_name="Старова",
                first_name="Вера",
                middle_name=None,
                birth_date=born,
                sex=2,
                insurer_code=None,
            )
            number = enp(born)
            session.add(Policy(enp=number, person_id=person.id, status="active", kind="paper"))
            held.append((number, snils))
    return held


def _rows(rng: random.Random, n: int, enp: Serials, held: list[tuple[str, str]]) -> list[list]:
    """``n`` rows: most new, some repeating an ЕНП or a СНИЛС of the register or of an earlier
    row (a СНИЛС sometimes in its printed form), some without СНИЛС, document or insurer."""
    rows: list[list] = []
    for i in range(n):
        born = _born(rng)
        row = [
            enp(born),
            _snils(rng) if rng.random() < 0.8 else "",
            rng.choice(LAST),
            rng.choice(FIRST),
            rng.choice(MIDDLE),
            born.isoformat(),
            rng.choice(["1", "2", ""]),
            rng.choice(INSURERS),
            rng.choice(["active", "suspended", "lapsed", "closed", ""]),
            rng.choice(["21", "", "03"]),
            rng.choice(["45 07", "", "IV-МЮ"]),
            rng.choice([f"{rng.randrange(10**6):06d}", ""]),
        ]
        roll = rng.random()
        if roll < 0.02:
            row[0] = rng.choice(held)[0]  # an ЕНП the register holds
        elif roll < 0.04:
            row[1] = rng.choice(held)[1]  # a СНИЛС the register holds
        elif roll < 0.06 and rows:
            row[0] = rng.choice(rows)[0]  # an ЕНП of an earlier row
        elif roll < 0.08 and rows:
            earlier = rng.choice([r for r in rows[-50:] if r[1]] or [None])
            if earlier:
                row[1] = snils_format(earlier[1])
        if rng.random() < 0.1 and row[1]:
            row[1] = snils_format(row[1])
        rows.append(row)
        if i % 500 == 7:
            # a row not loaded (its СНИЛС is held) leaves its ЕНП free: the next row loads
            again = enp(born)
            rows.append([again, held[i % SEEDED][1], *row[2:]])
            rows.append([again, "", *row[2:]])
    rows.append([rows[0][0], "", "Копия", "Строки", "", "2000-01-01", "", "Y77", "", "", "", ""])
    return rows


def _write(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _expected(rows: list[list], held: list[tuple[str, str]]) -> tuple[dict, Counter]:
    """What the row-by-row load writes, by ЕНП: each row in turn is already present when its
    ЕНП or its СНИЛС (as digits) is held by the register or by a row loaded before it."""
    enps = {e for e, _ in held}
    snilses = {s for _, s in held}
    counts: Counter = Counter()
    out = {}
    for raw in rows:
        v = [x.strip() for x in raw]
        snils = v[1].replace("-", "").replace(" ", "") or None
        if v[0] in enps or (snils and snils in snilses):
            counts["already_present"] += 1
            continue
        counts["loaded"] += 1
        enps.add(v[0])
        if snils:
            snilses.add(snils)
        born = date.fromisoformat(v[5])
        fields = {
            "snils": snils,
            "last_name": v[2] or None,
            "first_name": v[3] or None,
            "middle_name": v[4] or None,
            "birth_date": born,
            "sex": int(v[6]) if v[6] else None,
            "insurer_code": v[7] or None,
        }
        person = {name: fields.get(name) for name in PERSON_FIELDS}
        out[v[0]] = {
            "person": {
                **person,
                "origin": "register_load",
                "version": 1,
                "included_on": None,
                "employment_as_of": None,
                "name_key": name_key(v[2] or None, v[3] or None, v[4] or None, born),
            },
            "policy": ("electronic", v[8] or "active", None, None, None, None, "register_load"),
            "documents": [(v[9] or "21", v[10] or None, v[11], None, True, None)] if v[11] else [],
            "assignments": [(v[7], date.today(), "register_load", None, None)] if v[7] else [],
            "history": [
                (
                    1,
                    "created",
                    {k: x.isoformat() if isinstance(x, date) else x for k, x in person.items()},
                    RUN,
                    None,
                    None,
                )
            ],
        }
    return out, counts


def _actual(settings, held: list[tuple[str, str]]) -> dict:
    seeded = {e for e, _ in held}
    with db.session_scope(settings) as session:
        policies = {p.enp: p for p in session.scalars(select(Policy)) if p.enp not in seeded}
        by_person = {p.person_id: enp for enp, p in policies.items()}
        out = {enp: {"documents": [], "assignments": [], "history": []} for enp in policies}
        person_columns = [*PERSON_FIELDS, "origin", "version", "included_on"]
        person_columns += ["employment_as_of", "name_key"]
        for person in session.scalars(select(Person)):
            if person.id in by_person:
                out[by_person[person.id]]["person"] = {
                    c: getattr(person, c) for c in person_columns
                }
        for enp, p in policies.items():
            out[enp]["policy"] = (
                p.kind,
                p.status,
                p.valid_from,
                p.valid_to,
                p.issued_run_id,
                p.issued_record_id,
                p.reason,
            )
        for d in session.scalars(select(IdentityDocument).order_by(IdentityDocument.id)):
            if d.person_id in by_person:
                out[by_person[d.person_id]]["documents"].append(
                    (d.kind, d.series, d.number, d.issued_on, d.current, d.record_id)
                )
        for a in session.scalars(select(InsurerAssignment)):
            if a.person_id in by_person:
                out[by_person[a.person_id]]["assignments"].append(
                    (a.insurer_code, a.assigned_on, a.basis, a.run_id, a.record_id)
                )
        for h in session.scalars(select(PersonHistory)):
            if h.person_id in by_person:
                out[by_person[h.person_id]]["history"].append(
                    (h.version, h.change, h.data, h.run_id, h.file_id, h.record_id)
                )
    return out


TABLES = (
    "persons",
    "policies",
    "identity_documents",
    "insurer_assignments",
    "person_history",
    "insurers",
    "enp_counters",
)


def _dump(settings) -> dict[str, list]:
    with db.session_scope(settings) as session:
        return {
            t: sorted(map(tuple, session.execute(text(f"SELECT * FROM {t}"))), key=repr)
            for t in TABLES
        }


def _load(settings, path: Path, **kwargs) -> Counter:
    with db.session_scope(settings) as session:
        return load_register(session, path, run_id=RUN, **kwargs)


@pytest.fixture
def made(settings, tmp_path):
    rng = random.Random(2026)
    enp = Serials()
    held = _seed_register(settings, rng, enp)
    rows = _rows(rng, 3000, enp, held)
    return held, rows, _write(tmp_path / "register.csv", rows)


def test_a_chunked_load_gives_what_the_row_by_row_load_gave(settings, made):
    held, rows, path = made
    expected, counts = _expected(rows, held)
    assert counts["already_present"] > 150 and counts["loaded"] > 2500  # the mix is there
    assert _load(settings, path, chunk_rows=700) == counts
    actual = _actual(settings, held)
    assert actual.keys() == expected.keys()
    for enp in expected:
        assert actual[enp] == expected[enp], enp
    with db.session_scope(settings) as session:
        totals = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Person, Policy, PersonHistory, IdentityDocument, InsurerAssignment)
        }
        insurers = {
            i.code: (i.name, i.active, float(i.share)) for i in session.scalars(select(Insurer))
        }
    # an insurer the file names and the configuration does not is kept, inactive, with no
    # share; one that only rows already present name is not added
    assert insurers == {code: (code, False, 0.0) for code in INSURERS if code}
    # nothing beside what the rows account for: no person without its policy, no stray row
    assert totals == {
        "persons": SEEDED + counts["loaded"],
        "policies": SEEDED + counts["loaded"],
        "person_history": SEEDED + counts["loaded"],
        "identity_documents": sum(len(e["documents"]) for e in expected.values()),
        "insurer_assignments": sum(len(e["assignments"]) for e in expected.values()),
    }
    kinds = Counter(
        (bool(e["person"]["snils"]), bool(e["documents"]), bool(e["assignments"]))
        for e in expected.values()
    )
    assert len(kinds) == 8  # with and without СНИЛС, document, insurer: every combination


def test_loading_the_same_file_again_changes_nothing(settings, made):
    _held, rows, path = made
    first = _load(settings, path)
    before = _dump(settings)
    again = _load(settings, path, chunk_rows=500)
    assert again == Counter(already_present=len(rows))
    assert _dump(settings) == before
    assert first["loaded"] + first["already_present"] == len(rows)


def test_a_bad_row_in_a_later_chunk_writes_nothing_and_names_its_line(
    settings, made, tmp_path, capsys
):
    _held, rows, _path = made
    before = _dump(settings)
    bad = [list(r) for r in rows[:400]]
    bad[248][1] = "11223344500"  # the check digits of 112233445 are 95
    path = _write(tmp_path / "bad.csv", bad)
    with pytest.raises(LoadError) as caught:
        _load(settings, path, chunk_rows=100)
    assert str(caught.value) == "line 250: snils has a wrong check digit"
    assert _dump(settings) == before
    # the same through the command: one line, the line number, no value
    capsys.readouterr()
    assert cli.main(["register", "load", str(path)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        "erzl register load: line 250: snils has a wrong check digit"
    ]
    assert _dump(settings) == before


def test_a_missing_column_is_refused_before_anything(settings, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("enp,snils\n4502026010100013,\n", "utf-8")
    with pytest.raises(LoadError, match=r"^missing column\(s\): birth_date, first_name"):
        _load(settings, path)


def test_statements_grow_with_chunks_not_rows(settings, tmp_path):
    rng = random.Random(5)
    enp = Serials()
    rows = _rows(rng, 5000, enp, _seed_register(settings, rng, enp))
    path = _write(tmp_path / "big.csv", rows)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = db.engine(settings)
    event.listen(engine, "before_cursor_execute", count)
    seen = []
    try:
        counts = _load(settings, path, progress=seen.append)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts["loaded"] > 4500
    assert len(statements) < len(rows) / 100, statements
    assert [s.rows for s in seen] == [len(rows)]
    assert seen[-1].bytes_read == seen[-1].bytes_total == path.stat().st_size


def test_progress_is_one_line_per_chunk_and_the_last_line_stays(
    settings, made, monkeypatch, capsys
):
    held, rows, path = made
    monkeypatch.setattr(register_load, "CHUNK_ROWS", 1000)
    assert cli.main(["register", "load", str(path)]) == 0
    out, err = capsys.readouterr()
    _expected_rows, counts = _expected(rows, held)
    assert out.splitlines() == [
        f"loaded {counts['loaded']}, already present {counts['already_present']}"
    ]
    lines = err.splitlines()
    assert len(lines) == -(-len(rows) // 1000)
    assert all(line.startswith("register load: ") for line in lines)
    assert lines[0].startswith("register load: 1000 row(s) read (")
    assert lines[-1].startswith(f"register load: {len(rows)} row(s) read (100%), loaded ")
    assert not any(name.strip() in err for name in LAST + FIRST if name.strip())


def test_check_is_green_after_a_load(settings, made):
    _held, _rows, path = made
    _load(settings, path)
    with db.session_scope(settings) as session:
        assert check(session, settings, hashes=False) == []
