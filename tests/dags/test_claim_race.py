"""Claiming an inbox: two runs at once take every file exactly once, and a retried claim
finds what its failed attempt moved.

The every-minute ingest DAGs allow one active run each, but a manual trigger, a retried claim or
a second scheduler can still overlap; the claim is an atomic rename, so it must hold anyway.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines import config, intake

FEED = "zags_births"
FILES = 1500
RUNS = ("zags_births_ingest__run_a", "zags_births_ingest__run_b")


@pytest.fixture
def race_settings(tmp_path) -> config.Settings:
    # claiming touches only the file system: no register database is needed
    return config.load({"ERZL_HOME": str(tmp_path / "home"), "ERZL_SETTLE_SECONDS": "0"})


def _fill_inbox(settings: config.Settings) -> set[str]:
    inbox = settings.feed_inbox(FEED)
    inbox.mkdir(parents=True)
    names = {f"ROGDINF_{i:04d}.xml" for i in range(FILES)}
    for name in names:
        (inbox / name).write_text(f"<x>{name}</x>", "utf-8")
    return names


def _race(settings: config.Settings, start: str) -> dict[str, list[Path]]:
    """Both runs claim at once ("together"), or the second starts listing the inbox while the
    first is moving files out of it ("overlapping": a run triggered mid-claim)."""
    first, second = RUNS
    barrier = threading.Barrier(len(RUNS))

    def claim(run_id: str) -> list[Path]:
        if start == "together":
            barrier.wait()
        elif run_id == second:
            deadline = time.monotonic() + 30
            while not (settings.work / first).exists() and time.monotonic() < deadline:
                time.sleep(0.0005)
        return intake.claim_inbox(settings, FEED, run_id)

    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        futures = {run_id: pool.submit(claim, run_id) for run_id in RUNS}
        return {run_id: future.result() for run_id, future in futures.items()}


@pytest.mark.parametrize("start", ["together", "overlapping"])
def test_concurrent_claims_take_every_file_exactly_once(race_settings, start):
    names = _fill_inbox(race_settings)

    claimed = _race(race_settings, start)

    a, b = ([p.name for p in claimed[run_id]] for run_id in RUNS)
    assert len(a) == len(set(a)) and len(b) == len(set(b)), "a run listed a file twice"
    assert set(a) & set(b) == set(), "a file was claimed by both runs"
    assert set(a) | set(b) == names, "a file was claimed by neither run"
    assert list(race_settings.feed_inbox(FEED).iterdir()) == []
    for run_id, paths in claimed.items():
        work = race_settings.work / run_id
        assert all(p.parent == work and p.is_file() for p in paths)
        assert {p.read_text("utf-8") for p in paths} == {f"<x>{p.name}</x>" for p in paths}


def test_a_retried_claim_finds_the_files_it_already_moved(settings, monkeypatch):
    """The claim task moves files out of the inbox, then journals them. When journaling fails
    (register down), Airflow retries the task under the same run id: the retry must pick up the
    files that attempt moved, not skip the run on an empty inbox and strand them in work/."""
    from datetime import date

    from pipelines import run, tasks
    from pipelines.errors import PipelineFailure

    inbox = settings.feed_inbox(FEED)
    inbox.mkdir(parents=True)
    (inbox / "ROGDINF_retry.xml").write_text("<x/>", "utf-8")

    def register_down(*args, **kwargs):
        raise ConnectionError("register is down")

    with monkeypatch.context() as patch:
        patch.setattr(run, "start_run", register_down)
        with pytest.raises(PipelineFailure, match="E100 internal error: ConnectionError"):
            tasks.claim(FEED, "zags_births_ingest", "manual__retry", date(2026, 3, 2))

    retried = tasks.claim(FEED, "zags_births_ingest", "manual__retry", date(2026, 3, 2))

    assert len(retried["file_ids"]) == 1, "the claimed file was left behind in the work folder"
