"""Great Expectations Data Docs: one HTML page per validated file, without a failing value.

While a file is applied, :func:`collecting` gathers what every validation of its records said —
:func:`pipelines.validate.suite.run_suite` hands each result to :func:`collect` — and
:func:`publish` (or :func:`write_data_docs`, which raises) renders them with GE's own
``ValidationResultsPageRenderer`` and ``DefaultJinjaPageView`` into a file-system store:

    <ERZL_HOME>/data_docs/                        settings.home / "data_docs"
        <run>/<file id>.html                      one page per validated file

``<run>`` is the id of the run that received the file (``ReceivedFile.run_id``), reduced to
``[A-Za-z0-9_-]`` (:func:`pipelines.emit.safe_name`); ``<file id>`` is ``ReceivedFile.id``.
So a file keeps the address of its page whichever run applies it, and a re-apply (a retried
task, a run taking over a dead one's file) overwrites the page. :func:`data_docs_path` and
:func:`data_docs_url` (relative to the data_docs folder) give the address; a page that does not
exist means the file's records never reached the rules: no records, a copy of a file received
before, a file refused or quarantined whole. A page is written atomically.

What a page holds: per suite (births: ``births``; РСВ: ``rsv_header`` and ``rsv_persons``), the
results of all of the file's batches summed into one — each expectation's counts of records,
missing and unexpected values added up and its percentages recomputed, a success only when it
passed in every batch — with an Overview (suite, file, status, statistics, run). Each
expectation's row names its reason code and its meaning in English and Russian: two cells,
"Code" and "Meaning", added to GE's rendered tables (GE 1.x's own meta-properties columns put
their key in the expectation's kwargs, which its renderer then refuses). No value of the data
reaches a page: only counts and percentages are kept of a result (no unexpected or sample
values, no row indexes), nothing of the batch but the file's name and id and the number of
batches, and an exception's text is dropped. Text GE puts in a page as it is (the title, a run
name, a table cell) is escaped here.

The run writes the page inside the file's transaction, once its records are decided and
before the commit (:func:`publish`, fault point ``write.data_docs``): a try that does not
commit is applied again, and its page written again.
"""

from __future__ import annotations

import html
import logging
import numbers
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.codes import CATALOGUE

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.render.view import DefaultJinjaPageView

    from pipelines.config import Settings

log = logging.getLogger(__name__)

DATA_DOCS_DIR = "data_docs"
# all a page keeps of an expectation's result: counts (summed over batches) and percentages
# (recomputed from them), never a value, a sample or a row index
_COUNTS = ("element_count", "missing_count", "unexpected_count")
# the cells added to each expectation's row of GE's tables, after Status, Expectation and
# Observed Value
_COLUMNS = ("Code", "Meaning")
_NOT_EVALUATED = "the rule could not be evaluated"


def meaning(code: str) -> str:
    """A reason code's meaning as the pages show it: the English text, then the Russian one."""
    reason = CATALOGUE[code]
    return f"{reason.text} / {reason.text_ru}"


# --- where pages live --------------------------------------------------------------------------


def data_docs_root(settings: Settings) -> Path:
    return settings.home / DATA_DOCS_DIR


def data_docs_url(run_id: str, file_id: int) -> str:
    """The page of a file, relative to the data_docs folder (``<run>/<file id>.html``)."""
    from pipelines.emit import safe_name

    return f"{safe_name(run_id)}/{int(file_id)}.html"


def data_docs_path(settings: Settings, run_id: str, file_id: int) -> Path:
    """The page of file ``file_id``, received by run ``run_id`` (``ReceivedFile.run_id``)."""
    return data_docs_root(settings) / data_docs_url(run_id, file_id)


# --- collecting a file's results ---------------------------------------------------------------


@dataclass
class _Totals:
    """One expectation over all batches: its configuration (as first seen) and its counts."""

    config: Any  # ExpectationConfiguration
    counts: dict[str, int] = field(default_factory=dict)
    success: bool = True
    raised: bool = False


@dataclass
class _Suite:
    expectations: dict[tuple, _Totals] = field(default_factory=dict)
    batches: int = 0


@dataclass(frozen=True)
class CountedExpectation:
    """An expectation's result for one file when one validation covered several: the counts
    that are the file's, as :meth:`Collection.add` reads them of a GE result."""

    expectation_config: Any  # ExpectationConfiguration
    result: dict[str, int]
    success: bool
    exception_info: dict | None = None


@dataclass(frozen=True)
class Counted:
    """A file's share of a suite's validation (see ``suite.run_suite_parts``)."""

    suite_name: str
    results: list[CountedExpectation]


class Collection:
    """The validations of one file, summed per suite as they come (memory stays that of one
    result per suite, whatever the number of batches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._suites: dict[str, _Suite] = {}
        self.validated_at: datetime | None = None

    def __len__(self) -> int:
        """How many validations (batches, over all suites) were collected."""
        return sum(s.batches for s in self._suites.values())

    def add(self, result: ExpectationSuiteValidationResult | Counted) -> None:
        with self._lock:
            if self.validated_at is None:
                self.validated_at = datetime.now(UTC)
            suite = self._suites.setdefault(result.suite_name, _Suite())
            suite.batches += 1
            for item in result.results:
                config = item.expectation_config
                key = (config.type, repr(sorted(_kwargs(config).items())), config.meta.get("code"))
                totals = suite.expectations.get(key)
                if totals is None:
                    totals = suite.expectations[key] = _Totals(config)
                for name in _COUNTS:
                    value = (item.result or {}).get(name)
                    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                        totals.counts[name] = totals.counts.get(name, 0) + int(value)
                totals.success = totals.success and bool(item.success)
                totals.raised = totals.raised or raised_exception(item.exception_info)

    def clear(self) -> None:
        with self._lock:
            self._suites.clear()
            self.validated_at = None

    def results(self) -> list[ExpectationSuiteValidationResult]:
        """One GE result per suite, in the order suites were first validated: the batches'
        results summed, holding counts and percentages only."""
        with self._lock:
            return [
                _suite_result(name, suite, self.validated_at)
                for name, suite in self._suites.items()
            ]


_current: ContextVar[Collection | None] = ContextVar("erzl_data_docs", default=None)


@contextmanager
def collecting() -> Iterator[Collection]:
    """Collect, in this context (thread, task), every validation :func:`collect` is given."""
    collection = Collection()
    token = _current.set(collection)
    try:
        yield collection
    finally:
        _current.reset(token)


def collect(result: ExpectationSuiteValidationResult | Counted) -> None:
    """Add a validation's result to the current collection; nothing when none is open."""
    collection = _current.get()
    if collection is not None:
        collection.add(result)


def discard() -> None:
    """Forget what the current collection holds: the file was refused or quarantined whole, so
    its records were not decided by the rules, and it gets no page."""
    collection = _current.get()
    if collection is not None:
        collection.clear()


def _kwargs(config) -> dict:
    return {k: v for k, v in config.kwargs.items() if k != "batch_id"}


def raised_exception(exception_info: dict | None) -> bool:
    """Whether an expectation's result says it raised (GE keys the info by metric when several
    metrics of one expectation failed)."""
    if not exception_info:
        return False
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in exception_info.values())


def _percent(part: int, whole: int) -> float | None:
    return part / whole * 100 if whole > 0 else None


def _summary(counts: dict[str, int]) -> dict[str, Any]:
    """A result's counts and its percentages, recomputed as GE computes them for one batch."""
    result: dict[str, Any] = dict(counts)
    elements = counts.get("element_count", 0)
    unexpected = counts.get("unexpected_count")
    if unexpected is None:
        return result
    total = _percent(unexpected, elements)
    if "missing_count" in counts:
        missing = counts["missing_count"]
        nonmissing = _percent(unexpected, elements - missing)
        result.update(
            missing_percent=_percent(missing, elements),
            unexpected_percent=nonmissing,
            unexpected_percent_total=total,
            unexpected_percent_nonmissing=nonmissing,
        )
    else:
        result["unexpected_percent"] = total
    return result


def _suite_result(name: str, suite: _Suite, validated_at: datetime | None):
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    results = []
    for totals in suite.expectations.values():
        config = totals.config
        results.append(
            ExpectationValidationResult(
                success=totals.success and not totals.raised,
                expectation_config=ExpectationConfiguration(
                    type=config.type,
                    kwargs=_kwargs(config),
                    meta=dict(config.meta),
                    notes=config.notes,
                    description=config.description,
                ),
                result=_summary(totals.counts),
                exception_info={  # the exception's own text may quote the data: not kept
                    "raised_exception": totals.raised,
                    "exception_message": _NOT_EVALUATED if totals.raised else None,
                    "exception_traceback": None,
                },
            )
        )
    passed = sum(r.success for r in results)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": _percent(passed, len(results)),
        },
        meta={
            "batches": suite.batches,
            "validated_at": (validated_at or datetime.now(UTC)).isoformat(),
        },
    )


# --- rendering ---------------------------------------------------------------------------------

_view_lock = threading.Lock()
_view: DefaultJinjaPageView | None = None


def _page_view() -> DefaultJinjaPageView:
    """GE's page view, made once per process (it compiles its templates on first use)."""
    global _view
    with _view_lock:
        if _view is None:
            from pipelines.validate.suite import get_context

            get_context()  # GE imported quietly, the custom expectations registered
            from great_expectations.render.view import DefaultJinjaPageView

            _view = DefaultJinjaPageView()
        return _view


def _as_results(results) -> list[ExpectationSuiteValidationResult]:
    """Summed, stripped results: a :class:`Collection`'s, or those of GE results as they came."""
    if isinstance(results, Collection):
        return results.results()
    collection = Collection()
    for result in results:
        collection.add(result)
    return collection.results()


def render_page(
    run_id: str,
    file_id: int,
    file_name: str,
    results: Collection | Iterable[ExpectationSuiteValidationResult],
) -> str:
    """The HTML page of one file's validations (see the module's docstring for what it holds)."""
    import great_expectations as gx
    from great_expectations.render import RenderedDocumentContent
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    summed = _as_results(results)
    if not summed:
        raise ValueError(f"file {file_id}: nothing was validated")
    view = _page_view()
    renderer = ValidationResultsPageRenderer()
    sections = []
    for result in summed:
        # the batch is named, never described: its markers carry a fingerprint of the data
        result.meta = {
            "great_expectations_version": gx.__version__,
            # GE puts the run name in a table cell as it is: escaped here
            "run_id": {"run_name": html.escape(run_id), "run_time": result.meta["validated_at"]},
            "batch_spec": {
                "data_asset_name": file_name,
                "file_id": int(file_id),
                "batches": result.meta["batches"],
            },
        }
        document = renderer.render(result)
        _label_reasons(document.sections[1:], result.results)
        if len(summed) > 1:  # one Overview per suite: say whose
            document.sections[0].section_name = f"Overview: {result.suite_name}"
        sections += document.sections
    page = RenderedDocumentContent(
        renderer_type="ValidationResultsPageRenderer",
        page_title=html.escape(f"Validations / {file_name} / file {int(file_id)} / {run_id}"),
        expectation_suite_name=summed[0].suite_name,
        sections=sections,
        utm_medium="validation-results-page",
    )
    return _offline(view.render(page, show_how_to_buttons=False))


# GE's page loads Bootstrap, jQuery and Vega from CDNs. A fund's network may reach none of
# them, and an analyst's browser should not announce which page it opens to a third party:
# the page keeps GE's content and markup, with a small stylesheet of its own instead.
_EXTERNAL = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>|<link\b[^>]*\bhref=[\"'](?:https?:|\.\./)[^>]*>"
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>",
    re.IGNORECASE,
)
_OFFLINE_CSS = """<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
 margin:1rem auto;max-width:80rem;padding:0 1rem}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;
 text-align:left;vertical-align:top}th{background:#f6f8fa}
.collapse:not(.show){display:none}nav ol{list-style:none;padding:0}
img{max-height:1.5rem}a{color:#0969da}
</style>"""


# GE links its pages into a site of its own (an index four levels up, a page per suite) and
# adds a newsletter footer. A page here lives at data_docs/<run>/<file>.html, served as
# /erzl/data-docs/<run>/<file> and exported beside the console's pages: "Home" is the
# console's runs page two levels up, the suites are named without a link, the footer goes.
_GE_HOME = 'href="../../../../index.html"'
_SUITE_LINK = re.compile(r'<a href="\.\./\.\./\.\./\.\./expectations/[^"]*"\s*>([^<]*)</a>')
_GE_FOOTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.DOTALL)


def _offline(page: str) -> str:
    page = _EXTERNAL.sub("", page).replace("</head>", _OFFLINE_CSS + "</head>", 1)
    page = page.replace(_GE_HOME, 'href="../../index.html"')
    return _GE_FOOTER.sub("", _SUITE_LINK.sub(r"\1", page))


def _label_reasons(sections, results) -> None:
    """Add a Code and a Meaning cell to each expectation's row of GE's rendered tables: a column
    section's table has one row per expectation of that column, in the order of the results."""
    from great_expectations.render import RenderedStringTemplateContent, RenderedTableContent

    by_column: dict[str, list] = {}
    for item in results:
        column = item.expectation_config.kwargs.get("column", "Table-Level Expectations")
        by_column.setdefault(column, []).append(item)
    labelled = 0
    for section in sections:
        items = by_column.get(section.section_name, [])
        tables = [b for b in section.content_blocks if isinstance(b, RenderedTableContent)]
        if len(tables) != 1 or len(tables[0].table) != len(items):
            raise RuntimeError(f"section {section.section_name!r} is not laid out as expected")
        table = tables[0]
        table.header_row = [*table.header_row, *_COLUMNS]
        for row, item in zip(table.table, items, strict=True):
            code = item.expectation_config.meta.get("code")
            for text in (code, meaning(code) if code in CATALOGUE else "(not catalogued)"):
                row.append(  # a parameter, so GE escapes it
                    RenderedStringTemplateContent(
                        content_block_type="string_template",
                        string_template={"template": "$text", "params": {"text": str(text)}},
                    )
                )
        labelled += len(items)
    if labelled != len(results):
        raise RuntimeError("some expectations were not rendered in a column section")


def write_data_docs(
    settings: Settings,
    run_id: str,
    file_id: int,
    file_name: str,
    results: Collection | Iterable[ExpectationSuiteValidationResult],
) -> Path:
    """Render a file's validations as its Data Docs page and write it (atomically, replacing an
    earlier one); returns the page's path. ``run_id`` is the run that received the file."""
    from pipelines.emit import write_atomic

    text = render_page(run_id, file_id, file_name, results)
    path = data_docs_path(settings, run_id, file_id)
    return write_atomic(path, text.encode("utf-8"), kind="data_docs")


def publish(
    settings: Settings,
    run_id: str,
    file_id: int,
    file_name: str,
    results: Collection | Iterable[ExpectationSuiteValidationResult],
) -> Path | None:
    """What a run does once a file's records are decided: write its page — or, when nothing of
    it was validated, remove a page an earlier try left. Never raises: a page that cannot be
    written is one warning line, and the file goes on."""
    try:
        if isinstance(results, Collection) and not len(results):
            data_docs_path(settings, run_id, file_id).unlink(missing_ok=True)
            return None
        return write_data_docs(settings, run_id, file_id, file_name, results)
    except Exception as exc:  # a page is a convenience: it never fails the file
        log.warning("file %s: Data Docs page not written (%s)", file_id, type(exc).__name__)
        return None
