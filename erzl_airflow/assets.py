"""The Assets of the pipeline: each feed's inbox (watched: files arriving start a run), the
register and the analysts' run report (updated by every run that applied anything).

Built when a DAG file is parsed, from the environment only (ERZL_HOME, ERZL_SETTLE_SECONDS):
no database, no network, no file system access. The dag-processor, the triggerer and the
workers must see the same ERZL_HOME.
"""

from __future__ import annotations

import os

from airflow.sdk import Asset, AssetWatcher

from erzl_airflow.triggers import InboxTrigger

POKE_SECONDS = 10.0  # how often the triggerer looks into an inbox


def _home() -> str:
    return os.path.abspath(os.environ.get("ERZL_HOME", "./var"))


def inbox(feed: str) -> Asset:
    """A feed's inbox folder, watched by the triggerer."""
    directory = os.path.join(_home(), "inbox", feed)
    settle = float(os.environ.get("ERZL_SETTLE_SECONDS") or 10.0)
    trigger = InboxTrigger(directory=directory, settle_seconds=settle, poke_interval=POKE_SECONDS)
    return Asset(
        name=f"erzl_inbox_{feed}",
        uri=f"erzl://inbox/{feed}",  # the identity; where it is comes from ERZL_HOME
        group="erzl",
        watchers=[AssetWatcher(name=f"erzl_inbox_{feed}_watcher", trigger=trigger)],
    )


REGISTER = Asset(name="erzl_register", uri="erzl://register", group="erzl")


def run_report(feed: str) -> Asset:
    """The analysts' report of the feed's last run (outbox/reports/)."""
    return Asset(
        name=f"erzl_run_report_{feed}",
        uri=f"erzl://run-report/{feed}",  # written under ERZL_HOME/outbox/reports/
        group="erzl",
    )
