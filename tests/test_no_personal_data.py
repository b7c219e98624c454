"""No personal value of the input reaches stderr, a log or a traceback — also when the database
itself fails mid-run with an error whose text carries the row's values."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from pipelines import cli
from pipelines.register import db
from tests.scenarios import AS_OF, births_scenario, personal_values

EXIT_FAILURE = 3


def break_person_inserts(settings) -> None:
    """From now on, enrolling anyone fails inside the database. On PostgreSQL the error's own
    text names the person (as a constraint's DETAIL would); on SQLite the values travel as the
    statement's parameters, which an error prints unless they are hidden."""
    with db.session_scope(settings) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text(
                    "CREATE FUNCTION erzl_refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused % % born %', NEW.last_name, NEW.first_name, "
                    "NEW.birth_date; END $$ LANGUAGE plpgsql"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER erzl_refuse BEFORE INSERT ON persons "
                    "FOR EACH ROW EXECUTE FUNCTION erzl_refuse()"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE TRIGGER erzl_refuse BEFORE INSERT ON persons "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


def restore_person_inserts(settings) -> None:
    with db.session_scope(settings) as session:
        on = " ON persons" if session.get_bind().dialect.name == "postgresql" else ""
        session.execute(text(f"DROP TRIGGER erzl_refuse{on}"))


@pytest.fixture
def scenario(settings, tmp_path):
    made = births_scenario(tmp_path / "in")
    assert cli.main(["register", "load", str(made.register_csv)]) == 0
    break_person_inserts(settings)
    return made


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_a_database_error_mid_run_prints_one_line_without_values(scenario, capfd, caplog, debug):
    caplog.set_level(logging.DEBUG)
    argv = [*debug, "-v", "ingest", "--as-of", AS_OF.isoformat(), *map(str, scenario.files)]
    assert cli.main(argv) == EXIT_FAILURE

    out, err = capfd.readouterr()
    failures = [line for line in err.splitlines() if line.startswith("erzl ingest: ")]
    assert len(failures) == 1
    assert failures[0].startswith("erzl ingest: E101 database error: ")
    assert "(file " in failures[0]
    if debug:
        assert 'File "' in err  # where it happened, as frames
    else:
        assert "Traceback" not in err
    values = personal_values(scenario.files)
    seen = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert len(values) > 10
    assert [v for v in values if v in seen] == []
