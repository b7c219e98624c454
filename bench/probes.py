"""Stage clocks for one process: the time and the SQL statements of each stage of a run, measured
from outside pipelines/ by wrapping the functions a run calls through a module attribute.

A stage's figure is its self time: what is spent while it is the innermost stage running, so
the stages of a run add up to the run and nothing is counted twice (the parser driven by the
suite is counted as parse, not as suite). A statement counts for the stage that sends it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable

ROOT = "other"

# (stage, module, attribute): every function of a run that is looked up through its module when
# it is called, so replacing the attribute reaches the call. Nested entries of one stage name
# (the apply transaction and the feed's apply function) count once.
CALLS = (
    ("intake", "pipelines.run", "receive_files"),
    ("apply", "pipelines.run", "_apply_with_retries"),
    ("apply", "pipelines.enrol.births", "apply_births"),
    ("apply", "pipelines.enrol.contributions", "apply_rsv"),
    ("schema", "pipelines.parse.rsv", "validate_structure"),
    ("suite", "pipelines.enrol.births", "validate_births"),
    ("suite", "pipelines.validate.rsv", "validate_rsv_persons"),
    ("suite", "pipelines.validate.rsv", "validate_rsv_header"),
    ("link", "pipelines.link", "source_key"),
    ("link", "pipelines.link", "by_snils"),
    ("link", "pipelines.link", "by_name"),
    ("link", "pipelines.link", "find_parent"),
    ("link", "pipelines.link", "find_child"),
    ("link", "pipelines.link", "View.load"),  # a batch's candidates, where linking is set-based
    ("link", "pipelines.enrol.births", "_Batch._load"),  # a birth batch read against the register
    ("decide", "pipelines.enrol.births", "_Batch._decide"),  # its outcomes, in memory
    ("emit", "pipelines.run", "_emit_file"),
    ("emit", "pipelines.emit_run", "write_file_receipt"),
    ("emit", "pipelines.emit_run", "write_acknowledgements"),
    ("emit", "pipelines.emit_run", "write_notices"),
    ("emit", "pipelines.emit_run", "write_policy_list"),
    ("emit", "pipelines.emit_run", "write_report"),
    ("eligibility", "pipelines.enrol.contributions", "evaluate_eligibility"),
    ("finish", "pipelines.run", "finish_run"),
)
# functions returning an iterator: the time spent producing each item is the stage's
ITERATORS = (
    ("parse", "pipelines.parse.rsv", "iter_persons"),
    ("parse", "pipelines.parse.rsv", "iter_checked_persons"),  # the schema checked as it reads
)
STAGES = (
    "intake",
    "schema",
    "parse",
    "suite",
    "link",
    "decide",
    "apply",
    "emit",
    "eligibility",
    "finish",
    ROOT,
)


class Clock:
    """Self time and statements per stage; the root stage is whatever no probe claims."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.statements: Counter = Counter()
        self._stack: list[list] = [[ROOT, time.perf_counter()]]
        self.missing: list[str] = []
        self._undo: list[tuple[object, str, object]] = []

    def restart(self) -> None:
        self.seconds.clear()
        self.statements.clear()
        self._stack = [[ROOT, time.perf_counter()]]

    def stop(self) -> float:
        """Close the root stage; returns the total measured since :meth:`restart`."""
        now = time.perf_counter()
        self.seconds[self._stack[-1][0]] += now - self._stack[-1][1]
        self._stack[-1][1] = now
        return sum(self.seconds.values())

    def enter(self, name: str) -> None:
        now = time.perf_counter()
        top = self._stack[-1]
        self.seconds[top[0]] += now - top[1]
        self._stack.append([name, now])

    def leave(self) -> None:
        now = time.perf_counter()
        name, since = self._stack.pop()
        self.seconds[name] += now - since
        self._stack[-1][1] = now

    def on_statement(self, *_args) -> None:
        self.statements[self._stack[-1][0]] += 1

    # --- wrappers -----------------------------------------------------------------------------

    def call(self, name: str, fn: Callable) -> Callable:
        enter, leave = self.enter, self.leave

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                leave()

        return timed

    def iterator(self, name: str, fn: Callable) -> Callable:
        enter, leave = self.enter, self.leave

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            items = iter(fn(*args, **kwargs))
            try:
                while True:
                    enter(name)
                    try:
                        item = next(items)
                    except StopIteration:
                        return
                    finally:
                        leave()
                    yield item
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()

        return timed

    # --- hooks into a run ---------------------------------------------------------------------

    def _replace(self, module_name: str, attribute: str, make: Callable) -> None:
        """Wrap ``module.attribute`` (or ``module.Class.attribute``); note it when missing."""
        owner = importlib.import_module(module_name)
        *classes, attribute = attribute.split(".")
        for name in classes:
            owner = getattr(owner, name, None)
        original = vars(owner).get(attribute) if owner is not None else None
        if original is None:
            self.missing.append(".".join((module_name, *classes, attribute)))
            return
        if isinstance(original, classmethod | staticmethod):
            wrapped = type(original)(make(original.__func__))
        else:
            wrapped = make(original)
        setattr(owner, attribute, wrapped)
        self._undo.append((owner, attribute, original))

    def install(self) -> None:
        """Wrap the functions of a run (CALLS, ITERATORS, the birth formats' readers)."""
        for name, module, attribute in CALLS:
            self._replace(module, attribute, functools.partial(self.call, name))
        for name, module, attribute in ITERATORS:
            self._replace(module, attribute, functools.partial(self.iterator, name))
        # a birth file is read by the reader birth_format() returns (imported when called)
        self._replace("pipelines.parse.birth_formats", "birth_format", self._timed_formats)

    def _timed_formats(self, birth_format: Callable) -> Callable:
        @functools.wraps(birth_format)
        def timed(name):
            reader = birth_format(name)
            return dataclasses.replace(
                reader,
                validate_structure=self.call("schema", reader.validate_structure),
                iter_births=self.iterator("parse", reader.iter_births),
                # the one pass that reads and checks the schema: its time is parsing's
                checked_births=reader.checked_births
                and self.iterator("parse", reader.checked_births),
            )

        return timed

    def uninstall(self) -> None:
        for module, attribute, original in reversed(self._undo):
            setattr(module, attribute, original)
        self._undo.clear()
