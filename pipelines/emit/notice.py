"""The notice to an СМО listing the people the fund insured with it in one run.

The СМО must inform each person (326-ФЗ ст. 16), so unlike the analysts' report this file
carries full names, СНИЛС and birth dates: it is addressed to that СМО only.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from lxml import etree

from pipelines.emit import safe_name, write_atomic_stream
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


def _head(notice: InsurerNotice, count: int) -> tuple[etree._Element, etree._Element]:
    """The notice's tree up to its ``Persons`` element, which is left empty."""
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
    return root, etree.SubElement(root, _q("Persons"), {"count": str(count)})


def notice_xml(notice: InsurerNotice) -> etree._Element:
    """The notice as an XML tree, not yet checked against the schema (the whole tree is held;
    :func:`write_notice` streams the people instead)."""
    items = tuple(notice.items)
    root, persons = _head(notice, len(items))
    for item in items:
        _person(persons, item)
    return root


# people serialised together when a notice is streamed
CHUNK = 1_000


def _stream(notice: InsurerNotice, handle: BinaryIO) -> None:
    """The notice written a thousand people at a time, the bytes :func:`notice_xml` would
    serialise; ``notice.items`` is read twice (the count, then the people), never held. Each
    chunk is pretty-printed inside a tree shaped like the notice's, so it is indented as the
    whole tree would be, and cut out of it."""
    count = sum(1 for _ in notice.items) if notice.count is None else notice.count
    root, _ = _head(notice, count)
    head = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if not count:
        handle.write(head)
        return
    empty = f'<Persons count="{count}"/>'.encode()
    before, _, after = head.rpartition(empty)
    handle.write(before + f'<Persons count="{count}">\n'.encode())

    def flush(chunk: list[NoticeItem]) -> int:
        root, persons = _head(notice, count)
        for item in chunk:
            _person(persons, item)
        data = etree.tostring(root, encoding="UTF-8", pretty_print=True)
        start = data.index(b">\n", data.index(b"<Persons ")) + 2
        handle.write(data[start : data.rindex(b"  </Persons>")])
        return len(chunk)

    written, chunk = 0, []
    for item in notice.items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            written += flush(chunk)
            chunk = []
    written += flush(chunk) if chunk else 0
    if written != count:
        raise ValueError("the notice's people changed while it was written")
    handle.write(b"  </Persons>" + after)


def write_notice(notice: InsurerNotice, out_dir: Path) -> Path:
    """Write ``out_dir/NOTICE_<insurer code>_<run id>.xml``, valid under ``schemas/notice``, in
    memory that does not grow with the run: the people are streamed out and the written file is
    streamed against the schema before it is put in place."""
    return write_atomic_stream(
        Path(out_dir) / notice_name(notice.insurer_code, notice.run_id),
        lambda handle: _stream(notice, handle),
        kind="notice",
        schema_path=SCHEMA,
    )
