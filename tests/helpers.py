"""Small builders shared by the end-to-end tests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lxml import etree

from pipelines.register import db, exports

RECEIPT_NS = "{urn:erzl-ingest:receipt:1.0}"


def register(settings) -> list[dict]:
    with db.session_scope(settings) as session:
        return list(exports.persons(session))


def records(settings) -> list[dict]:
    with db.session_scope(settings) as session:
        return list(exports.records(session))


def receipt(path: str | Path) -> dict:
    """The receipt's counts and records, read back from the XML an agency would get."""
    root = etree.parse(str(path)).getroot()
    counts = root.find(f"{RECEIPT_NS}Counts")
    out = {
        "status": root.find(f"{RECEIPT_NS}File").get("status"),
        "counts": {k: int(v) for k, v in counts.attrib.items()},
        "records": [],
    }
    for rec in root.iter(f"{RECEIPT_NS}Record"):
        out["records"].append(
            {
                "key": rec.get("key"),
                "outcome": rec.get("outcome"),
                "codes": [c.get("code") for c in rec.iter(f"{RECEIPT_NS}Code")],
                "enp": rec.get("enp"),
            }
        )
    return out


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


AS_OF = date(2026, 3, 2)
