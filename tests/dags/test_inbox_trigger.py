"""The inbox trigger the triggerer runs for each feed's asset: an event when settled files
arrive, none for an empty inbox, a file still being written, or files already announced."""

from __future__ import annotations

import asyncio
import os
import time

from erzl_airflow.triggers import InboxTrigger


def _age(path, seconds: float = 120) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


async def _events(trigger: InboxTrigger, steps, looks: int = 3) -> list[list]:
    """Run the trigger; before each step's looks, apply the step; the events of each step."""
    found: list[list] = []
    stream = trigger.run().__aiter__()
    pending = asyncio.ensure_future(stream.__anext__())
    try:
        for step in steps:
            step()
            events = []
            deadline = time.monotonic() + looks * trigger.poke_interval + 0.2
            while time.monotonic() < deadline:
                done, _ = await asyncio.wait({pending}, timeout=trigger.poke_interval)
                if done:
                    events.append(pending.result().payload)
                    pending = asyncio.ensure_future(stream.__anext__())
            found.append(events)
    finally:
        pending.cancel()
    return found


def test_events_only_for_settled_files_not_announced_before(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    trigger = InboxTrigger(directory=str(inbox), settle_seconds=30, poke_interval=0.05)
    first, second = inbox / "ROGDINF_1.xml", inbox / "ROGDINF_2.xml"

    def nothing() -> None:
        pass

    def settled() -> None:
        first.write_text("<x/>", "utf-8")
        _age(first)

    def still_writing() -> None:
        second.write_text("<x", "utf-8")

    def finished_writing() -> None:
        second.write_text("<x/>", "utf-8")
        _age(second)

    def part_file() -> None:
        (inbox / "ROGDINF_3.xml.part").write_text("<x", "utf-8")
        _age(inbox / "ROGDINF_3.xml.part")

    events = asyncio.run(
        _events(trigger, [nothing, settled, nothing, still_writing, finished_writing, part_file])
    )
    assert events == [
        [],  # an empty inbox: no event, no DAG run
        [{"directory": str(inbox), "files": 1}],
        [],  # the same file, still waiting to be claimed: announced once
        [],  # a file written a moment ago may not be complete
        [{"directory": str(inbox), "files": 2}],
        [],  # a temporary name is never announced
    ]


def test_a_missing_inbox_is_quiet_and_the_trigger_round_trips(tmp_path):
    trigger = InboxTrigger(directory=str(tmp_path / "absent"), settle_seconds=0, poke_interval=0.05)
    assert asyncio.run(_events(trigger, [lambda: None])) == [[]]
    classpath, kwargs = trigger.serialize()
    assert classpath == "erzl_airflow.triggers.InboxTrigger"
    assert InboxTrigger(**kwargs).serialize() == (classpath, kwargs)
