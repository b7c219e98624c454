"""The fund analysts' validation report for one run, as JSON for machines; people read the
same run in the console (:mod:`pipelines.console`), whose static pages each run also writes.

Analysts get record references, not personal data: the model carries no names, and values are
masked by the field they come from (:func:`pipelines.privacy.mask_record_key`): an РСВ person
block's key is a СНИЛС and is masked; act numbers and file names are shown as they are.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.codes import reason
from pipelines.emit import safe_name, write_atomic
from pipelines.emit.model import COUNT_KEYS, FileReport, RuleCount, RunReport, check_counts
from pipelines.privacy import mask_record_key

REPORT_VERSION = "1.0"


def _rule(rule: RuleCount) -> dict[str, Any]:
    return {
        "code": rule.code,
        "outcome": rule.outcome,
        "severity": rule.severity,
        "text": rule.text,
        "count": rule.count,
    }


def _file(report: FileReport) -> dict[str, Any]:
    # Records may be a subset (say, only those not accepted), so only the sum is checked here.
    check_counts(report.counts)
    return {
        "file_name": report.file_name,
        "feed": report.feed,
        "status": report.status,
        "file_codes": [
            {"code": c, "outcome": reason(c).outcome, "text": reason(c).text}
            for c in report.file_codes
        ],
        "counts": {k: report.counts[k] for k in COUNT_KEYS},
        "rule_counts": [_rule(r) for r in report.rule_counts],
        "records": [
            {
                "seq": r.seq,
                "record_key": mask_record_key(report.feed, r.record_key),
                "outcome": r.outcome,
                "codes": list(r.codes),
                "enp": r.enp,
            }
            for r in report.records
        ],
    }


def duration_seconds(started: datetime | None, finished: datetime | None) -> float | None:
    """Seconds from start to finish; None when either is unknown. A naive time beside an aware
    one (SQLite drops the zone) has no honest difference."""
    if started is None or finished is None or (started.tzinfo is None) != (finished.tzinfo is None):
        return None
    return (finished - started).total_seconds()


def report_dict(report: RunReport) -> dict[str, Any]:
    """The whole report as JSON-ready values, already masked."""
    return {
        "report_version": REPORT_VERSION,
        "run_id": report.run_id,
        "as_of": report.as_of.isoformat(),
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "duration_seconds": duration_seconds(report.started_at, report.finished_at),
        "totals": dict(report.totals),
        "run_codes": [_rule(r) for r in report.run_codes],
        "files": [_file(f) for f in report.files],
    }


def report_name(run_id: str) -> str:
    return f"report_{safe_name(run_id)}.json"


def write_run_report(report: RunReport, out_dir: Path) -> Path:
    """Write ``report_<run id>.json`` into ``out_dir``."""
    text = json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"
    return write_atomic(Path(out_dir) / report_name(report.run_id), text.encode("utf-8"),
                        kind="report")  # fmt: skip
