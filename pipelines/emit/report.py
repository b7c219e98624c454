"""The fund analysts' validation report for one run: JSON for machines, HTML for people.

Analysts get record references, not personal data: the model carries no names, and every string
goes through :func:`pipelines.privacy.redact` before it is written, so a СНИЛС inside a record
key (an РСВ person block) or a file name appears masked.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.codes import reason
from pipelines.emit import safe_name, write_atomic
from pipelines.emit.model import COUNT_KEYS, FileReport, RuleCount, RunReport, check_counts
from pipelines.privacy import redact

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
                "record_key": r.record_key,
                "outcome": r.outcome,
                "codes": list(r.codes),
                "enp": r.enp,
            }
            for r in report.records
        ],
    }


def _duration(started: datetime, finished: datetime) -> float | None:
    # A naive time beside an aware one (SQLite drops the zone) has no honest difference.
    if (started.tzinfo is None) != (finished.tzinfo is None):
        return None
    return (finished - started).total_seconds()


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_redacted(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def report_dict(report: RunReport) -> dict[str, Any]:
    """The whole report as JSON-ready values, already redacted."""
    return _redacted(
        {
            "report_version": REPORT_VERSION,
            "run_id": report.run_id,
            "as_of": report.as_of.isoformat(),
            "started_at": report.started_at.isoformat(),
            "finished_at": report.finished_at.isoformat(),
            "duration_seconds": _duration(report.started_at, report.finished_at),
            "totals": dict(report.totals),
            "run_codes": [_rule(r) for r in report.run_codes],
            "files": [_file(f) for f in report.files],
        }
    )


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
 margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;
 border-bottom:1px solid #d0d7de;padding-bottom:.25rem}h3{font-size:1rem;margin:1rem 0 .4rem}
.meta{color:#59636e;margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.85em;
 background:#eaeef2}
.s-accepted{background:#dafbe1}.s-partially_accepted,.s-review{background:#fff8c5}
.s-rejected,.s-quarantined{background:#ffebe9}.s-duplicate,.s-not_applicable{background:#eaeef2}
.totals{display:flex;flex-wrap:wrap;gap:.75rem;padding:0;list-style:none}
.totals li{border:1px solid #d0d7de;border-radius:.4rem;padding:.4rem .8rem;min-width:8rem}
.totals b{display:block;font-size:1.3rem}
details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}
"""

_COUNT_LABELS = {
    "received": "Received",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "review": "Review",
    "duplicate": "Duplicate",
    "not_applicable": "Not applicable",
}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(value: str) -> str:
    return f'<span class="badge s-{_e(value)}">{_e(value.replace("_", " "))}</span>'


def _codes(codes: list[str]) -> str:
    return " ".join(f'<code title="{_e(reason(c).text)}">{_e(c)}</code>' for c in codes)


def _rules_table(rules: list[dict[str, Any]]) -> str:
    if not rules:
        return "<p>No rule fired.</p>"
    rows = "".join(
        f"<tr><td><code>{_e(r['code'])}</code></td><td>{_e(r['severity'])}</td>"
        f"<td>{_badge(r['outcome']) if r['outcome'] else '—'}</td><td>{_e(r['text'])}</td>"
        f'<td class="n">{_e(r["count"])}</td></tr>'
        for r in rules
    )
    return (
        "<table><thead><tr><th>Code</th><th>Severity</th><th>Outcome</th><th>Rule</th>"
        f'<th class="n">Count</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _files_table(files: list[dict[str, Any]]) -> str:
    if not files:
        return "<p>No file was processed in this run.</p>"
    head = "".join(f'<th class="n">{_e(_COUNT_LABELS[k])}</th>' for k in COUNT_KEYS)
    rows = "".join(
        f"<tr><td><code>{_e(f['file_name'])}</code></td><td>{_e(f['feed'])}</td>"
        f"<td>{_badge(f['status'])}</td>"
        + "".join(f'<td class="n">{_e(f["counts"][k])}</td>' for k in COUNT_KEYS)
        + f"<td>{_codes([c['code'] for c in f['file_codes']])}</td></tr>"
        for f in files
    )
    return (
        f"<table><thead><tr><th>File</th><th>Feed</th><th>Status</th>{head}"
        f"<th>File codes</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _drill_down(f: dict[str, Any]) -> str:
    parts = [f"<details><summary><code>{_e(f['file_name'])}</code> — {_badge(f['status'])}"]
    parts.append(f" ({len(f['records'])} record references)</summary>")
    if f["file_codes"]:
        items = "".join(
            f"<li><code>{_e(c['code'])}</code> {_e(c['text'])}</li>" for c in f["file_codes"]
        )
        parts.append(f"<h3>File codes</h3><ul>{items}</ul>")
    parts.append("<h3>Rules</h3>" + _rules_table(f["rule_counts"]))
    if f["records"]:
        rows = "".join(
            f'<tr><td class="n">{_e(r["seq"])}</td><td><code>{_e(r["record_key"])}</code></td>'
            f"<td>{_badge(r['outcome'])}</td><td>{_codes(r['codes'])}</td>"
            f"<td><code>{_e(r['enp'])}</code></td></tr>"
            for r in f["records"]
        )
        parts.append(
            '<h3>Records</h3><table><thead><tr><th class="n">Seq</th><th>Record key</th>'
            f"<th>Outcome</th><th>Codes</th><th>ЕНП</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</details>")
    return "".join(parts)


def _took(data: dict[str, Any]) -> str:
    seconds = data["duration_seconds"]
    return "" if seconds is None else f" ({_e(round(seconds))} s)"


def report_html(data: dict[str, Any]) -> str:
    """A self-contained HTML page from :func:`report_dict`'s output."""
    totals = "".join(
        f"<li><b>{_e(v)}</b>{_e(k.replace('_', ' '))}</li>" for k, v in data["totals"].items()
    )
    drill = "".join(_drill_down(f) for f in data["files"]) or "<p>Nothing to show.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Validation report — run {_e(data["run_id"])}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Validation report</h1>
<p class="meta">Run <code>{_e(data["run_id"])}</code> · as of {_e(data["as_of"])} ·
started {_e(data["started_at"])} · finished {_e(data["finished_at"])}{_took(data)}</p>
<h2>Summary</h2>
<ul class="totals">{totals}</ul>
<h2>Files</h2>
{_files_table(data["files"])}
<h2>Rules across the run</h2>
{_rules_table(data["run_codes"])}
<h2>Record references</h2>
{drill}
</body>
</html>
"""


def report_names(run_id: str) -> tuple[str, str]:
    stem = f"report_{safe_name(run_id)}"
    return f"{stem}.json", f"{stem}.html"


def write_run_report(report: RunReport, out_dir: Path) -> list[Path]:
    """Write ``report_<run id>.json`` and ``report_<run id>.html`` into ``out_dir``."""
    data = report_dict(report)
    json_name, html_name = report_names(report.run_id)
    out = Path(out_dir)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return [
        write_atomic(out / json_name, text.encode("utf-8"), kind="report"),
        write_atomic(out / html_name, report_html(data).encode("utf-8"), kind="report"),
    ]
