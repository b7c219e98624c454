"""An event trigger on an inbox folder: an asset event when settled files are waiting.

Used as the ``AssetWatcher`` of each feed's inbox asset, it lets a DAG run start when files
arrive, and only then: no polling schedule, no DAG run for an empty inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


def settled_files(directory: str, settle_seconds: float) -> frozenset[tuple[str, int, int]]:
    """(name, size, mtime) of each file waiting in the inbox that has settled; the same rule as
    the claim itself (pipelines.intake.waiting), so the run the event starts finds them."""
    from pipelines.intake import waiting

    folder = Path(directory)
    if not folder.is_dir():
        return frozenset()
    found = set()
    for path in waiting(folder, settle_seconds):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # claimed meanwhile
        found.add((path.name, stat.st_size, stat.st_mtime_ns))
    return frozenset(found)


class InboxTrigger(BaseEventTrigger):
    """Fires when settled files are waiting in ``directory`` that it has not fired for yet.

    A file still being written (modified within ``settle_seconds``) waits for the next look;
    files already announced do not fire again while they wait to be claimed. After a triggerer
    restart waiting files are announced once more, and the run that starts finds them.
    """

    def __init__(
        self, directory: str, settle_seconds: float = 10.0, poke_interval: float = 5.0
    ) -> None:
        super().__init__()
        self.directory = directory
        self.settle_seconds = settle_seconds
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "erzl_airflow.triggers.InboxTrigger",
            {
                "directory": self.directory,
                "settle_seconds": self.settle_seconds,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced: frozenset = frozenset()
        while True:
            waiting = await asyncio.to_thread(settled_files, self.directory, self.settle_seconds)
            if waiting - announced:
                yield TriggerEvent({"directory": self.directory, "files": len(waiting)})
            announced = waiting  # a file claimed and dropped again is news again
            await asyncio.sleep(self.poke_interval)
