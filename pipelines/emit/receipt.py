"""The receipt (протокол ФЛК) sent back to the sender of every received file.

The sender reads its own receipt, so it carries record keys and the ЕНП issued, but no names or
СНИЛС beyond what the keys themselves are. Texts are the catalogue's, Russian and English.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import BinaryIO

from lxml import etree

from pipelines.codes import FileStatus, Outcome, reason
from pipelines.emit import bounded_name, write_atomic_stream
from pipelines.emit.model import OUTCOME_KEYS, Receipt, ReceiptRecord, check_counts

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


def _head(receipt: Receipt, legend: list[str]) -> tuple[etree._Element, etree._Element]:
    """The receipt's tree up to its ``Records`` element, which is left empty."""
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

    legend_el = etree.SubElement(root, _q("Reasons"))
    for code in legend:
        _reason(legend_el, code)
    return root, etree.SubElement(root, _q("Records"))


def _legend(records: Iterable[ReceiptRecord]) -> list[str]:
    return sorted({code for record in records for code in record.codes})


def receipt_xml(receipt: Receipt) -> etree._Element:
    """The receipt as an XML tree, not yet checked against the schema (a small receipt: the
    whole tree is held; :func:`write_receipt` streams the records instead)."""
    check_counts(receipt.counts, receipt.records)
    root, records = _head(receipt, _legend(receipt.records))
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


# what libxml2 escapes in an attribute value, as it escapes it
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
     "\t": "&#9;"}
)  # fmt: skip


def _record_text(record: ReceiptRecord) -> str:
    """One ``Record`` as :func:`receipt_xml` pretty-prints it, inside ``Records``."""
    attrs = f' seq="{record.seq}"'
    if record.record_key:
        attrs += f' key="{record.record_key.translate(_ATTR_ESCAPES)}"'
    attrs += f' outcome="{Outcome(record.outcome).value}"'
    if record.enp:
        attrs += f' enp="{record.enp.translate(_ATTR_ESCAPES)}"'
    if not record.codes:
        return f"    <Record{attrs}/>\n"
    codes = "".join(
        f'      <Code code="{code.translate(_ATTR_ESCAPES)}"/>\n'
        for code in dict.fromkeys(record.codes)
    )
    return f"    <Record{attrs}>\n{codes}    </Record>\n"


def _stream(receipt: Receipt, handle: BinaryIO) -> None:
    """The receipt written record by record, the bytes :func:`receipt_xml` would serialise;
    ``receipt.records`` is read twice (the legend, then the records), never held."""
    check_counts(receipt.counts)
    legend = (
        _legend(receipt.records) if receipt.record_codes is None else sorted(receipt.record_codes)
    )
    root, _ = _head(receipt, legend)
    head = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if not receipt.counts["received"]:
        handle.write(head)  # an empty Records element, as the whole tree has it
    else:
        before, _, after = head.rpartition(b"<Records/>")
        handle.write(before + b"<Records>\n")
    by_outcome = dict.fromkeys(OUTCOME_KEYS, 0)
    for record in receipt.records:
        by_outcome[Outcome(record.outcome).value] += 1
        handle.write(_record_text(record).encode("utf-8"))
    if any(by_outcome[k] != receipt.counts[k] for k in OUTCOME_KEYS):
        raise ValueError("counts do not match the records listed")
    if receipt.counts["received"]:
        handle.write(b"  </Records>" + after)


def write_receipt(receipt: Receipt, out_dir: Path) -> Path:
    """Write the receipt as ``out_dir/<receipt_name>``, valid under ``schemas/receipt``, in
    memory that does not grow with the file: its records are streamed out and the written file
    is streamed against the schema before it is put in place."""
    return write_atomic_stream(
        Path(out_dir) / receipt_name(receipt.file_name, receipt.status),
        lambda handle: _stream(receipt, handle),
        kind="receipt",
        schema_path=SCHEMA,
    )
