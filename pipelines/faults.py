"""Named fault points: where the fault-injection suite makes a process die, on purpose.

``ERZL_FAULT=<point>[@<n>][:<action>]`` makes the ``n``-th time (default the first) the process
passes ``point`` do ``action``:

- ``kill`` (the default): SIGKILL this process, as the OOM killer or a lost worker would;
- ``enospc``: raise ``OSError(ENOSPC)``, as a full disk would;
- ``pgterm``: terminate this process' PostgreSQL connections from a second connection, as an
  administrator or a failover would; the next statement then fails;
- ``sleep=<seconds>``: pause there (the race tests use it to hold a transaction open).

Unset, a point costs one dictionary look-up. Points are listed in docs/architecture.md with the
test that covers each.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections import Counter
from collections.abc import Callable

ENV = "ERZL_FAULT"

_hits: Counter = Counter()
_hooks: dict[str, Callable[[], None]] = {}


def register(action: str, hook: Callable[[], None]) -> None:
    """Let another module carry out an action (the register's database layer: ``pgterm``)."""
    _hooks[action] = hook


def reset() -> None:
    """Forget the hits counted so far (a forked test child starts from zero)."""
    _hits.clear()


def _parse(spec: str) -> tuple[str, int, str]:
    point, _, action = spec.partition(":")
    point, _, nth = point.partition("@")
    return point.strip(), int(nth) if nth else 1, action.strip() or "kill"


def point(name: str) -> None:
    """Pass the fault point ``name``; does what ERZL_FAULT says when it names this pass."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        target, nth, action = _parse(item)
        if target != name:
            continue
        _hits[name] += 1
        if _hits[name] == nth:
            _act(action)


def _act(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(10)  # never reached: the signal is delivered at once
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    elif action.startswith("sleep="):
        time.sleep(float(action.partition("=")[2]))
    elif action in _hooks:
        _hooks[action]()
    else:
        raise ValueError(f"{ENV}: unknown action {action!r}")
