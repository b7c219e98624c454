"""Failures that are not a kill: a full disk (injected, and a real small tmpfs), a terminated
PostgreSQL connection. Each run that fails ends with one line that says what happened — a
stable code, no traceback, no personal value — and the retry completes it: the register and the
journal equal a clean run's, and every invariant holds."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time

import pytest
from sqlalchemy import select

from pipelines.register import db
from pipelines.register.models import ReceivedFile
from tests.conftest import BACKEND
from tests.faults.conftest import (
    SCENARIOS,
    in_child,
    setup_scenario,
    snapshot,
    violations,
)
from tests.scenarios import personal_values

EXIT_FAILURE = 3


def _assert_one_clean_line(log_text: str, scenario, code: str) -> None:
    """The failed run said what happened in one line with its code, and nothing personal."""
    failures = [line for line in log_text.splitlines() if line.startswith("erzl ingest: ")]
    assert len(failures) == 1, log_text
    assert code in failures[0], failures[0]
    assert "Traceback" not in log_text
    leaked = [v for v in personal_values(scenario.files) if v in log_text]
    assert leaked == [], f"personal values in the output: {len(leaked)}"


ENOSPC_POINTS = ["intake.archiving@2", "write.receipt@1", "write.notice@2", "write.report@1"]


@pytest.mark.parametrize("feed", list(SCENARIOS))
@pytest.mark.parametrize("point", ENOSPC_POINTS)
def test_a_full_disk_at_a_write_fails_the_run_in_one_line_and_a_retry_completes_it(
    tmp_path, erzl_env, clean_runs, feed, point
):
    scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed)
    failed = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": f"{point}:enospc"}, log=log)
    assert failed == EXIT_FAILURE
    _assert_one_clean_line(log.read_text(), scenario, "E103 file system error")
    assert "(ENOSPC)" in log.read_text()
    if point.startswith("write.receipt"):  # a failure inside a file's work names the file
        assert "(ENOSPC) (file " in log.read_text()

    retry_log = tmp_path / "retry.log"
    assert in_child(scenario.ingest(), env=env, log=retry_log) == 0, retry_log.read_text()
    assert snapshot(settings) == clean_runs[feed][0]
    assert violations(settings) == []


@contextlib.contextmanager
def small_tmpfs(where, size="4m"):
    """A real file system of ``size``, mounted for the test (the suite runs as root)."""
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder) -> os.PathLike:
    """Write zeros until the file system is full; returns the ballast file."""
    ballast = folder / "ballast"
    with open(ballast, "wb") as fh:
        block = b"\0" * 65536
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    # and the last few bytes a smaller write still finds
    with contextlib.suppress(OSError), open(folder / "ballast-tail", "wb") as fh:
        while True:
            fh.write(b"\0" * 512)
            fh.flush()
    return ballast


def _unfill(folder) -> None:
    for name in ("ballast", "ballast-tail"):
        (folder / name).unlink(missing_ok=True)


@pytest.mark.parametrize("feed", list(SCENARIOS))
def test_a_really_full_data_directory_at_intake_then_freed(tmp_path, erzl_env, clean_runs, feed):
    with small_tmpfs(tmp_path / "home") as home:
        scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed, ERZL_HOME=str(home))
        _fill(home)
        assert in_child(scenario.ingest(), env=env, log=log) == EXIT_FAILURE
        _assert_one_clean_line(log.read_text(), scenario, "E103 file system error")
        _unfill(home)
        assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
        assert snapshot(settings) == clean_runs[feed][0]
        assert violations(settings) == []


@pytest.mark.parametrize("feed", list(SCENARIOS))
def test_the_disk_fills_between_commit_and_receipt_then_is_freed(
    tmp_path, erzl_env, clean_runs, feed
):
    """The first file is applied, then the disk fills while its receipt is to be written."""
    with small_tmpfs(tmp_path / "home") as home:
        scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed, ERZL_HOME=str(home))
        pause = {**env, "ERZL_FAULT": "apply.committed@1:sleep=3"}
        pid = os.fork()
        if pid == 0:
            os._exit(in_child(scenario.ingest(), env=pause, log=log))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _applied(settings):
            time.sleep(0.05)
        _fill(home)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == EXIT_FAILURE, log.read_text()
        _assert_one_clean_line(log.read_text(), scenario, "E103 file system error")
        _unfill(home)
        assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
        assert snapshot(settings) == clean_runs[feed][0]
        assert violations(settings) == []


def _applied(settings) -> bool:
    with db.session_scope(settings) as session:
        return session.scalar(select(ReceivedFile.id).where(ReceivedFile.state == "applied"))


PGTERM_POINTS = [
    "apply.record@2",
    "apply.before_commit@1",
    "emit.receipt_written@2",
    "finish.decided@1",
    "write.notice@1",
]

if BACKEND == "postgresql":  # a PostgreSQL connection to terminate exists on this backend only

    @pytest.mark.parametrize("feed", list(SCENARIOS))
    @pytest.mark.parametrize("point", PGTERM_POINTS)
    def test_a_terminated_connection_fails_the_run_in_one_line_and_a_retry_completes_it(
        tmp_path, erzl_env, clean_runs, feed, point
    ):
        scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed)
        failed = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": f"{point}:pgterm"}, log=log)
        assert failed == EXIT_FAILURE, log.read_text()
        _assert_one_clean_line(log.read_text(), scenario, "E102 the database cannot be reached")

        assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
        assert snapshot(settings) == clean_runs[feed][0]
        assert violations(settings) == []
