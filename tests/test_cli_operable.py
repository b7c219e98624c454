"""The command line as an operator meets it: one line per error with its cause, never a
traceback, and exit codes that tell what happened."""

from __future__ import annotations

import pytest

from pipelines import cli
from tests.scenarios import AS_OF, births_scenario


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("sqlite:////nonexistent/folder/register.sqlite3", "E102"),
        ("postgresql+psycopg://postgres@localhost:5432/erzl_no_such_database", "E106"),
        ("postgresql+psycopg://postgres@localhost:1/erzl", "E102"),
        ("notadatabase://somewhere", "E105"),
    ],
    ids=["sqlite-missing-folder", "pg-missing-database", "pg-nothing-listening", "bad-url"],
)
def test_a_database_that_cannot_be_used_is_one_line(erzl_env, monkeypatch, capsys, url, code):
    monkeypatch.setenv("ERZL_DATABASE_URL", url)
    assert cli.main(["check"]) == cli.EXIT_FAILURE
    assert _one_line(capsys).startswith(f"erzl check: {code} ")


def test_a_directory_given_to_register_load_is_one_line(settings, tmp_path, capsys):
    assert cli.main(["register", "load", str(tmp_path)]) == cli.EXIT_FAILURE
    assert "(EISDIR)" in _one_line(capsys)


def test_a_register_csv_not_in_utf8_is_one_line(settings, tmp_path, capsys):
    load = tmp_path / "register.csv"
    header = "enp,snils,last_name,first_name,middle_name,birth_date,sex,insurer_code,policy_status"
    load.write_bytes(
        (header + "\n4502026010100013,,Иванова,Анна,,2026-01-01,2,,active\n").encode("cp1251")
    )
    assert cli.main(["register", "load", str(load)]) == cli.EXIT_FAILURE
    line = _one_line(capsys)
    assert line.startswith("erzl register: E104 ") and "Иванова" not in line


def test_an_existing_file_as_out_is_one_line(settings, tmp_path, capsys):
    scenario = births_scenario(tmp_path / "in")
    assert cli.main(["register", "load", str(scenario.register_csv)]) == 0
    enp = scenario.register_csv.read_text("utf-8").splitlines()[1].split(",")[0]
    taken = tmp_path / "taken.txt"
    taken.write_text("mine", "utf-8")
    capsys.readouterr()
    assert cli.main(["policy", enp, "--out", str(taken)]) == cli.EXIT_USAGE
    assert "is not a directory" in _one_line(capsys)
    assert taken.read_text("utf-8") == "mine"


def test_ingest_exit_codes_tell_refused_and_nothing_from_success(settings, tmp_path, capsys):
    scenario = births_scenario(tmp_path / "in")
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(scenario.files[0])]) == 0
    broken = tmp_path / "ROGDINF_broken.xml"
    broken.write_bytes(scenario.files[1].read_bytes()[:-50])
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), str(broken)]) == cli.EXIT_REFUSED
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert cli.main(["ingest", str(empty)]) == cli.EXIT_NOTHING
    assert "nothing to ingest" in capsys.readouterr().err


def test_ingest_reports_progress_one_line_per_file_when_not_a_terminal(settings, tmp_path, capsys):
    scenario = births_scenario(tmp_path / "in")
    assert cli.main(["ingest", "--as-of", AS_OF.isoformat(), *map(str, scenario.files)]) == 0
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert progress == [
        "[1/3] ROGDINF_first.xml: partially_accepted, 4 record(s)",
        "[2/3] ROGDINF_second.xml: accepted, 3 record(s)",
        "[3/3] ROGDINF_first_resent.xml: duplicate, 4 record(s)",
    ]


def test_status_shows_settings_backlog_and_demo_insurers_loudly(settings, monkeypatch, capsys):
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True)
    (inbox / "ROGDINF_waiting.xml").write_text("<x/>", "utf-8")
    monkeypatch.delenv("ERZL_INSURERS")
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "DEMO LIST" in out
    from alembic.script import ScriptDirectory

    from pipelines.register import db

    head = ScriptDirectory.from_config(db.alembic_config(settings)).get_current_head()
    assert f"migration level  {head}" in out
    assert "inbox zags_births 1 file(s) waiting" in out
    assert "unfinished files 0" in out
