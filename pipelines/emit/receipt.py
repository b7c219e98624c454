"""The receipt (протокол ФЛК) sent back to the sender of every received file.

The sender reads its own receipt, so it carries record keys and the ЕНП issued, but no names or
СНИЛС beyond what the keys themselves are. Texts are the catalogue's, Russian and English.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from lxml import etree

from pipelines.codes import FileStatus, Outcome, reason
from pipelines.emit import bounded_name, write_atomic, xml_bytes
from pipelines.emit.model import OUTCOME_KEYS, Receipt, check_counts

SCHEMA = "receipt/receipt-1.0.xsd"
NS = "urn:erzl-ingest:receipt:1.0"

# A file-level duplicate rejected and held nothing, so by the naming rule it gets PR_ too.
_CLEAN = {FileStatus.ACCEPTED, FileStatus.DUPLICATE}


def receipt_name(file_name: str, status: str) -> str:
    """``PR_<input name>`` when no record was rejected or held, ``ER_<input name>`` otherwise.

    The input name keeps its extension; ``.xml`` is appended when it has another one.
    """
    name = PurePath(file_name).name
    if not name:
        raise ValueError("empty file name")
    if not name.lower().endswith(".xml"):
        name += ".xml"
    prefix = "PR_" if FileStatus(status) in _CLEAN else "ER_"
    return prefix + bounded_name(name)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _reason(parent: etree._Element, code: str) -> None:
    r = reason(code)
    attrs = {"code": r.code, "severity": r.severity.value}
    if r.outcome is not None:
        attrs["outcome"] = r.outcome.value
    el = etree.SubElement(parent, _q("Reason"), attrs)
    etree.SubElement(el, _q("TextRu")).text = r.text_ru
    etree.SubElement(el, _q("TextEn")).text = r.text


def receipt_xml(receipt: Receipt) -> etree._Element:
    """The receipt as an XML tree, not yet checked against the schema."""
    check_counts(receipt.counts, receipt.records)
    root = etree.Element(_q("Receipt"), {"version": "1.0"}, nsmap={None: NS})
    file_attrs = {
        "name": PurePath(receipt.file_name).name,
        "feed": receipt.feed,
        "received": receipt.received_at.isoformat(),
        "processed": receipt.processed_on.isoformat(),
        "status": FileStatus(receipt.status).value,
        "run": receipt.run_id,
    }
    if receipt.sha256:
        file_attrs["sha256"] = receipt.sha256.lower()
    if receipt.duplicate_of:
        file_attrs["duplicateOf"] = receipt.duplicate_of
    if receipt.format:
        file_attrs["format"] = receipt.format
    if receipt.detail:
        file_attrs["detail"] = receipt.detail
    etree.SubElement(root, _q("File"), file_attrs)

    file_codes = etree.SubElement(root, _q("FileCodes"))
    for code in dict.fromkeys(receipt.file_codes):
        _reason(file_codes, code)

    c = receipt.counts
    etree.SubElement(
        root,
        _q("Counts"),
        {
            "received": str(c["received"]),
            "accepted": str(c["accepted"]),
            "rejected": str(c["rejected"]),
            "review": str(c["review"]),
            "duplicate": str(c["duplicate"]),
            "notApplicable": str(c["not_applicable"]),
            "total": str(sum(c[k] for k in OUTCOME_KEYS)),
        },
    )

    legend = etree.SubElement(root, _q("Reasons"))
    for code in sorted({code for record in receipt.records for code in record.codes}):
        _reason(legend, code)

    records = etree.SubElement(root, _q("Records"))
    for record in receipt.records:
        attrs = {"seq": str(record.seq)}
        if record.record_key:
            attrs["key"] = record.record_key
        attrs["outcome"] = Outcome(record.outcome).value
        if record.enp:
            attrs["enp"] = record.enp
        el = etree.SubElement(records, _q("Record"), attrs)
        for code in dict.fromkeys(record.codes):
            etree.SubElement(el, _q("Code"), {"code": code})
    return root


def write_receipt(receipt: Receipt, out_dir: Path) -> Path:
    """Write the receipt as ``out_dir/<receipt_name>``, valid under ``schemas/receipt``."""
    data = xml_bytes(receipt_xml(receipt), SCHEMA)
    return write_atomic(
        Path(out_dir) / receipt_name(receipt.file_name, receipt.status), data, kind="receipt"
    )
