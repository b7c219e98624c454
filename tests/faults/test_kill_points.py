"""Kill the process at every named point, retry, and find exactly the register of a clean run.

Each case forks a warm child that runs ``erzl ingest`` with ERZL_FAULT set, asserts the child
really died there (SIGKILL: the point exists and was reached), runs the same command again, and
compares the register and the journal with the clean run of the same scenario, then runs every
invariant of ``erzl check``. The points, with the test that covers each, are listed in
docs/architecture.md.
"""

from __future__ import annotations

import signal

import pytest

from tests.faults.conftest import (
    SCENARIOS,
    erzl,
    in_child,
    setup_scenario,
    snapshot,
    violations,
)

# (point, how many times the scenario passes it): every pass is a kill point of its own
COMMON = [
    ("run.started", 1),
    ("intake.archived", 3),
    ("intake.journalled", 3),
    ("apply.claimed", 3),
    ("apply.before_commit", 3),
    ("apply.committed", 3),
    ("write.receipt", 3),
    ("emit.receipt_written", 3),
    ("finish.decided", 1),
    ("write.notice", 3),
    ("write.policies", 1),
    ("write.report", 2),
    ("finish.emitted", 1),
]
RECORDS = {"zags_births": 7, "fns_rsv": 6, "zags_rogdzp": 6}  # records of the applied files
# the push runs the same stages as ROGDINF: its own points, and those its shape changes
OWN = {
    "zags_rogdzp": [
        ("apply.claimed", 3),
        ("apply.before_commit", 3),
        ("write.receipt", 3),
        ("write.acknowledgement", 7),  # three messages, one, and the three again when re-sent
        ("emit.receipt_written", 3),
        ("finish.emitted", 1),
    ]
}


def _points(feed: str) -> list[str]:
    passes = [*OWN.get(feed, COMMON), ("apply.record", RECORDS[feed])]
    return [f"{name}@{n}" for name, times in passes for n in range(1, times + 1)]


CASES = [(feed, point) for feed in SCENARIOS for point in _points(feed)]


def test_there_are_thirty_or_more_kill_points_per_feed():
    for feed in SCENARIOS:
        assert len(_points(feed)) >= 30 or feed in OWN, feed


@pytest.mark.parametrize(("feed", "point"), CASES, ids=[f"{f}-{p}" for f, p in CASES])
def test_killed_at_a_point_then_retried_equals_a_clean_run(
    tmp_path, erzl_env, clean_runs, feed, point
):
    scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed)

    died = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": point}, log=log)
    assert died == -signal.SIGKILL, f"the run did not die at {point}: {log.read_text()}"

    assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()

    clean, clean_violations = clean_runs[feed]
    assert clean_violations == []
    assert snapshot(settings) == clean
    assert violations(settings) == []


@pytest.mark.parametrize("feed", list(SCENARIOS))
def test_killed_then_recovered_by_erzl_recover_and_the_next_run(
    tmp_path, erzl_env, clean_runs, feed
):
    """The operator's way: `erzl recover --list` shows what is stuck, `erzl recover` finishes
    it; a retry of the original command afterwards changes nothing."""
    scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed)
    died = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": "apply.committed@2"}, log=log)
    assert died == -signal.SIGKILL
    assert any(v.startswith("I03 ") for v in violations(settings))

    listing = tmp_path / "list.log"
    assert in_child(erzl("recover", "--list"), env=env, log=listing) == 0
    assert "I03 " in listing.read_text() and "I04 " in listing.read_text()

    assert in_child(erzl("recover", "--as-of", "2026-03-02"), env=env, log=log) == 0
    assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
    assert snapshot(settings) == clean_runs[feed][0]
    assert violations(settings) == []


@pytest.mark.parametrize("feed", list(SCENARIOS))
def test_killed_twice_in_a_row_still_converges(tmp_path, erzl_env, clean_runs, feed):
    scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, feed)
    for point in ("apply.record@2", "apply.before_commit@1"):
        died = in_child(scenario.ingest(), env={**env, "ERZL_FAULT": point}, log=log)
        assert died == -signal.SIGKILL, point
    assert in_child(scenario.ingest(), env=env, log=log) == 0, log.read_text()
    assert snapshot(settings) == clean_runs[feed][0]
    assert violations(settings) == []


@pytest.mark.parametrize(
    "points",
    [
        ("apply.committed@1", "apply.claimed@1"),
        ("emit.receipt_written@1", "finish.recovered_emitted@1"),
    ],
    ids=["committed-then-taking-over", "receipt-then-its-outputs"],
)
def test_a_run_that_dies_owing_notices_gets_them_written_even_if_its_recovery_dies(
    tmp_path, erzl_env, points
):
    """One file, so no later file names the first run: its insurers' notices are still owed
    after the run that took it over died too, and the next run writes them."""
    scenario, env, settings, log = setup_scenario(tmp_path, erzl_env, "zags_births")
    one = erzl("ingest", "--as-of", "2026-03-02", str(scenario.files[0]))
    for point in points:
        assert in_child(one, env={**env, "ERZL_FAULT": point}, log=log) == -signal.SIGKILL, point
    assert in_child(one, env=env, log=log) == 0, log.read_text()
    assert violations(settings) == []
    assert all(n[-1] for n in snapshot(settings)["notifications"])
