"""One unit of work per file (the DAGs map one task over each): a file that must follow another
waits until that one is applied, and fails, rather than waits for ever, when it failed."""

from __future__ import annotations

import shutil

import pytest

from pipelines import run, tasks
from pipelines.errors import PipelineFailure
from tests.helpers import AS_OF
from tests.scenarios import births_scenario, rsv_scenario


def _claim(settings, scenario, feed: str, airflow_run: str) -> dict:
    inbox = settings.feed_inbox(feed)
    inbox.mkdir(parents=True, exist_ok=True)
    for path in scenario.files:
        shutil.copyfile(path, inbox / path.name)
    return tasks.claim(feed, f"{feed}_ingest", airflow_run, AS_OF)


@pytest.fixture
def rsv_claimed(settings, tmp_path, monkeypatch):
    scenario = rsv_scenario(tmp_path / "rsv")
    for key, value in scenario.env.items():
        monkeypatch.setenv(key, value)
    return _claim(settings, scenario, "fns_rsv", "manual__units"), scenario


def _by_name(units: list[dict]) -> dict[str, dict]:
    return {u["label"].split(" ", 1)[1]: u for u in units}


def test_a_correction_follows_its_report_and_other_payers_go_first(settings, rsv_claimed):
    claimed, scenario = rsv_claimed
    units = tasks.files(claimed)
    assert len(units) == 3 == len(scenario.files)
    primary, correction, other = (p.name for p in scenario.files)
    named = _by_name(units)
    assert named[correction]["after"] == named[primary]["file_id"]
    assert named[primary]["after"] is None and named[other]["after"] is None
    # the independent files come first in map order, so they are taken up side by side
    assert [u["after"] for u in units[:2]] == [None, None]


def test_a_file_waits_for_the_one_it_follows_then_goes(settings, rsv_claimed):
    claimed, scenario = rsv_claimed
    named = _by_name(tasks.files(claimed))
    primary, correction, other = (named[p.name] for p in scenario.files)
    assert tasks.process_one(correction) == {"waiting_for": primary["file_id"]}
    assert tasks.process_one(primary)["status"] == "accepted"
    assert tasks.process_one(correction)["status"] == "accepted"
    assert tasks.process_one(other)["status"] == "accepted"
    totals = tasks.finish(claimed)
    assert totals["files"] == 3 and totals["enrolled"] >= 1


def test_a_file_that_follows_a_failed_one_fails_too(settings, rsv_claimed):
    claimed, scenario = rsv_claimed
    named = _by_name(tasks.files(claimed))
    primary, correction = named[scenario.files[0].name], named[scenario.files[1].name]
    tasks.file_failed(primary)
    with pytest.raises(PipelineFailure, match="follows file"):
        tasks.process_one(correction)


def test_a_file_that_follows_one_of_a_released_run_fails(settings, rsv_claimed):
    claimed, scenario = rsv_claimed
    named = _by_name(tasks.files(claimed))
    run.release(settings, claimed["run_id"], because="the DAG run failed")
    with pytest.raises(PipelineFailure):
        tasks.process_one(named[scenario.files[1].name])


def test_a_copy_follows_its_original(settings, tmp_path):
    scenario = births_scenario(tmp_path / "births")
    claimed = _claim(settings, scenario, "zags_births", "manual__copy")
    named = _by_name(tasks.files(claimed))
    first, _second, copy = (named[p.name] for p in scenario.files)
    by_id = {u["file_id"]: u for u in named.values()}
    chain, unit = [], copy
    while unit["after"] is not None:
        chain.append(unit["after"])
        unit = by_id[unit["after"]]
    assert first["file_id"] in chain
