"""Shared Great Expectations machinery: one quiet in-memory context per process, and a runner that
turns a suite's failures into reason codes per record.

Rules are plain column expectations over a frame whose derived columns the feed modules compute,
so no expectation needs a row condition. great_expectations takes seconds to import; it is
imported on first use here, never when this module is imported. Every expectation carries its
reason code and meaning in its meta, and every validation's result is handed to
:mod:`pipelines.validate.docs`, which makes a file's Data Docs page of them while a run collects.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from pipelines.codes import CATALOGUE
from pipelines.validate import docs

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.expectations.expectation import Expectation

# COMPLETE gives every failing row's index; the failing values themselves (personal data) and
# the pandas query string that repeats the index are left out of the result.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}

T = TypeVar("T")

_DATA_SOURCE = "erzl_validate"
_lock = threading.Lock()
_engine: tuple[EphemeralDataContext, BatchDefinition] | None = None


class RuleError(RuntimeError):
    """A rule could not be evaluated: a programming error, never a verdict on the data."""


def _get_engine() -> tuple[EphemeralDataContext, BatchDefinition]:
    global _engine
    with _lock:
        if _engine is None:
            # GE reads this when it is imported; the context config below says it again.
            os.environ["GX_ANALYTICS_ENABLED"] = "False"
            # its own chatter would fill the task logs — from the import on (which logs a
            # line per decorated function): warnings and above only
            logging.getLogger("great_expectations").setLevel(logging.WARNING)
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            import pipelines.validate.expectations  # noqa: F401  registers the custom ones

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                # tqdm bars would write to stderr on every validation
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            )
            context = gx.get_context(mode="ephemeral", project_config=config)
            batch_definition = (
                context.data_sources.add_pandas(_DATA_SOURCE)
                .add_dataframe_asset("frame")
                .add_batch_definition_whole_dataframe("whole")
            )
            _engine = (context, batch_definition)
        return _engine


def get_context() -> EphemeralDataContext:
    """The process's ephemeral GE context: analytics off, progress bars off, nothing on disk."""
    return _get_engine()[0]


def reason_meta(code: str) -> dict[str, Any]:
    """What labels an expectation of reason ``code`` in its meta, for Data Docs and anyone reading
    the suite: the code, and a markdown note with the code and its meaning in both languages."""
    return {
        "code": code,
        "reason_code": code,
        "notes": {"format": "markdown", "content": [f"**{code}** — {docs.meaning(code)}"]},
    }


def build_suite(name: str, expectations: Sequence[Expectation]) -> ExpectationSuite:
    """An expectation suite whose every expectation names its reason code in ``meta["code"]``
    (and ``meta["reason_code"]``), with the code and its meaning as a note (:func:`reason_meta`).
    """
    get_context()  # suites resolve through a context, and the custom expectations must exist
    import great_expectations as gx

    for expectation in expectations:
        code = (expectation.meta or {}).get("code")
        if code not in CATALOGUE:
            raise ValueError(f"{name}: {type(expectation).__name__} has no catalogued meta code")
        expectation.meta = {**expectation.meta, **reason_meta(code)}
    suite = gx.ExpectationSuite(name=name, expectations=list(expectations))
    # ExpectationSuite logs and drops an expectation it cannot take; a dropped rule must not pass.
    if len(suite.expectations) != len(expectations):
        raise ValueError(f"{name}: some expectations were not accepted by the suite")
    return suite


def suite_codes(suite: ExpectationSuite) -> list[str]:
    """The suite's reason codes, once each, in the order of its expectations."""
    return list(dict.fromkeys(e.meta["code"] for e in suite.expectations))


def _validate(frame: pd.DataFrame, suite: ExpectationSuite):
    """One GE validation of ``frame`` (index reset: positions are what GE reports back)."""
    _, batch_definition = _get_engine()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format=RESULT_FORMAT)


def _failures(result, suite: ExpectationSuite, keys: list) -> tuple[dict, dict[int, set[str]]]:
    """Each failing row position → the codes it failed, and each expectation → its positions.
    A rule that raised inside GE, or failed without naming rows, raises :class:`RuleError`."""
    failed: dict[int, set[str]] = {}  # row position -> codes
    positions_of: dict[int, list[int]] = {}  # expectation (index in results) -> positions
    for index, item in enumerate(result.results):
        config = item.expectation_config
        code = config.meta["code"]
        rule = f"{code} ({config.type} on {config.kwargs.get('column')!r})"
        if docs.raised_exception(item.exception_info):
            raise RuleError(f"rule {rule} could not be evaluated")
        if item.success:
            positions_of[index] = []
            continue
        positions = item.result.get("unexpected_index_list")
        if positions is None:
            raise RuleError(f"rule {rule} failed without naming rows: not a per-row rule")
        positions_of[index] = list(positions)
        for position in positions:
            failed.setdefault(position, set()).add(code)
    return positions_of, failed


def _by_key(failed: dict[int, set[str]], keys: list, order: dict[str, int]) -> dict:
    result_by_key: dict[Hashable, list[str]] = {}
    for position in sorted(failed):  # in row order, so reports come out in file order
        codes = failed[position]
        key = keys[position]
        if key in result_by_key:  # a key on two rows: keep each code once
            codes = codes | set(result_by_key[key])
        result_by_key[key] = sorted(codes, key=order.__getitem__)
    return result_by_key


def run_suite(
    frame: pd.DataFrame, suite: ExpectationSuite, key_column: str
) -> dict[Hashable, list[str]]:
    """Validate ``frame`` and map each failing row's key to the codes of the rules it failed.

    Keys come in row order, codes in suite order, each once; rows that pass every rule are left
    out. A rule that raises inside GE raises :class:`RuleError` here (naming the rule, not the
    data) rather than letting the row pass unchecked.
    """
    if frame.empty:
        return {}
    frame = frame.reset_index(drop=True)
    keys = frame[key_column].tolist()
    result = _validate(frame, suite)
    docs.collect(result)  # for the file's Data Docs page, when one is being collected
    order = {code: i for i, code in enumerate(suite_codes(suite))}
    _, failed = _failures(result, suite, keys)
    return _by_key(failed, keys, order)


def run_suite_parts(
    frame: pd.DataFrame, suite: ExpectationSuite, key_column: str, part_column: str
) -> dict[Hashable, tuple[dict[Hashable, list[str]], docs.Counted]] | None:
    """:func:`run_suite` for several inputs at once: ``frame`` holds the rows of every part
    (a file), ``part_column`` says whose each row is, and one GE validation runs for all.

    Each part gets what :func:`run_suite` would have given it alone — its failing keys and
    codes — and its own share of the result for its Data Docs page (:class:`docs.Counted`, to
    :func:`docs.collect`): per expectation, its rows, its missing values (nulls of the
    column) and its unexpected ones, and a success when it has none. Nothing is collected
    here. None when the result cannot be split so: an expectation with ``mostly``, or counts
    that do not add up to GE's own (the caller then validates each part alone).
    """
    if frame.empty:
        return {}
    frame = frame.reset_index(drop=True)
    keys = frame[key_column].tolist()
    parts = frame[part_column].tolist()
    # the suite sees the columns a part alone would have: the part column is not one of them
    result = _validate(frame.drop(columns=[part_column]), suite)
    positions_of, failed = _failures(result, suite, keys)
    order = {code: i for i, code in enumerate(suite_codes(suite))}
    names = list(dict.fromkeys(parts))
    rows = frame.groupby(part_column, sort=False).size().to_dict()
    shares: dict[Hashable, list[docs.CountedExpectation]] = {name: [] for name in names}
    for index, item in enumerate(result.results):
        config = item.expectation_config
        if config.kwargs.get("mostly") not in (None, 1, 1.0):
            return None
        given = item.result or {}
        unexpected = {name: 0 for name in names}
        for position in positions_of[index]:
            unexpected[parts[position]] += 1
        counts = {name: {"element_count": rows[name]} for name in names}
        if "missing_count" in given:
            column = config.kwargs.get("column")
            missing = frame[column].isna().groupby(frame[part_column], sort=False).sum()
            for name in names:
                counts[name]["missing_count"] = int(missing[name])
        if "unexpected_count" in given:
            for name in names:
                counts[name]["unexpected_count"] = unexpected[name]
        for count in ("element_count", "missing_count", "unexpected_count"):
            if count in given and sum(c[count] for c in counts.values()) != given[count]:
                return None
        for name in names:
            shares[name].append(
                docs.CountedExpectation(config, counts[name], unexpected[name] == 0)
            )
    out: dict[Hashable, tuple[dict[Hashable, list[str]], docs.Counted]] = {}
    for name in names:
        mine = {p: codes for p, codes in failed.items() if parts[p] == name}
        out[name] = (_by_key(mine, keys, order), docs.Counted(result.suite_name, shares[name]))
    return out


def chunked(items: Iterable[T], size: int | None) -> Iterator[list[T]]:
    """Successive lists of ``size`` items (all of them at once when ``size`` is None)."""
    if size is not None and size < 1:
        raise ValueError("chunk size must be positive")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def run_chunked(
    items: Iterable[T],
    to_frame: Callable[[list[T]], pd.DataFrame],
    make_suite: Callable[[], ExpectationSuite],
    key_column: str,
    chunk_size: int | None,
) -> dict[Any, list[str]]:
    """:func:`run_suite` over ``items`` a chunk at a time, so memory stays bounded by the chunk.

    The suite is built on the first chunk: an empty input never imports great_expectations.
    """
    suite: ExpectationSuite | None = None
    order: dict[str, int] = {}
    merged: dict[Any, list[str]] = {}
    for chunk in chunked(items, chunk_size):
        if suite is None:
            suite = make_suite()
            order = {code: i for i, code in enumerate(suite_codes(suite))}
        for key, codes in run_suite(to_frame(chunk), suite, key_column).items():
            if key in merged:  # a key repeated across chunks: keep each code once, in order
                codes = sorted(set(merged[key]) | set(codes), key=order.__getitem__)
            merged[key] = codes
    return merged
