"""The notice to an СМО listing the people the fund insured with it in one run.

The СМО must inform each person (326-ФЗ ст. 16), so unlike the analysts' report this file
carries full names, СНИЛС and birth dates: it is addressed to that СМО only.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from pipelines.emit import safe_name, write_atomic, xml_bytes
from pipelines.emit.model import InsurerNotice, NoticeItem
from pipelines.identifiers import snils_normalize

SCHEMA = "notice/insurer-notice-1.0.xsd"
NS = "urn:erzl-ingest:insurer-notice:1.0"


def notice_name(insurer_code: str, run_id: str) -> str:
    return f"NOTICE_{safe_name(insurer_code)}_{safe_name(run_id)}.xml"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(parent: etree._Element, tag: str, value: object) -> None:
    if value is not None and value != "":
        etree.SubElement(parent, _q(tag)).text = str(value)


def _person(parent: etree._Element, item: NoticeItem) -> None:
    attrs = {
        "enp": item.enp,
        "event": item.event,
        "basis": item.basis,
        "assignedOn": item.assigned_on.isoformat(),
    }
    if item.source_file:
        attrs["sourceFile"] = item.source_file
    if item.record_key:
        attrs["recordKey"] = item.record_key
    el = etree.SubElement(parent, _q("Person"), attrs)
    _text(el, "LastName", item.last_name)
    _text(el, "FirstName", item.first_name)
    _text(el, "MiddleName", item.middle_name)
    _text(el, "BirthDate", item.birth_date and item.birth_date.isoformat())
    _text(el, "Sex", item.sex)
    # A malformed СНИЛС is written as given, so the schema check stops it.
    _text(el, "Snils", item.snils and (snils_normalize(item.snils) or item.snils))
    policy = {"validFrom": item.policy_valid_from.isoformat()}
    if item.policy_valid_to is not None:
        policy["validTo"] = item.policy_valid_to.isoformat()
    etree.SubElement(el, _q("Policy"), policy)


def notice_xml(notice: InsurerNotice) -> etree._Element:
    """The notice as an XML tree, not yet checked against the schema."""
    root = etree.Element(_q("InsurerNotice"), {"version": "1.0"}, nsmap={None: NS})
    etree.SubElement(
        root, _q("Insurer"), {"code": notice.insurer_code, "name": notice.insurer_name}
    )
    etree.SubElement(
        root,
        _q("Fund"),
        {
            "region": notice.fund_region,
            "run": notice.run_id,
            "created": notice.created_on.isoformat(),
        },
    )
    persons = etree.SubElement(root, _q("Persons"), {"count": str(len(notice.items))})
    for item in notice.items:
        _person(persons, item)
    return root


def write_notice(notice: InsurerNotice, out_dir: Path) -> Path:
    """Write ``out_dir/NOTICE_<insurer code>_<run id>.xml``, valid under ``schemas/notice``."""
    data = xml_bytes(notice_xml(notice), SCHEMA)
    return write_atomic(
        Path(out_dir) / notice_name(notice.insurer_code, notice.run_id), data, kind="notice"
    )
