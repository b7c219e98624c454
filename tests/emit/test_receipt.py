from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pipelines.codes import FileStatus, Outcome
from pipelines.emit import xml_bytes
from pipelines.emit.model import Receipt, ReceiptRecord
from pipelines.emit.receipt import NS, SCHEMA, receipt_name, receipt_xml, write_receipt
from pipelines.resources import schemas_dir

XSD = etree.XMLSchema(etree.parse(str(schemas_dir() / "receipt" / "receipt-1.0.xsd")))
N = {"r": NS}
SHA = "ab" * 32


def counts(**outcomes):
    full = {o.value: 0 for o in Outcome} | outcomes
    return {"received": sum(full.values()), **full}


def make_receipt(**overrides):
    records = (
        ReceiptRecord(1, "120249000000100001001", Outcome.ACCEPTED, (), "2341998071655749"),
        ReceiptRecord(2, "120249000000100001002", Outcome.REJECTED, ("Z002", "Z003")),
        ReceiptRecord(3, "120249000000100001003", Outcome.REVIEW, ("Z004",)),
        ReceiptRecord(4, "120249000000100001004", Outcome.NOT_APPLICABLE, ("Z001",)),
        ReceiptRecord(5, "120249000000100001001", Outcome.DUPLICATE, ("Z012",)),
        ReceiptRecord(6, None, Outcome.ACCEPTED, ("Z006",), "8451999122899990"),
    )
    values = {
        "file_name": "ROGDINF_20240115.xml",
        "feed": "zags_births",
        "sha256": SHA,
        "received_at": datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        "processed_on": date(2024, 1, 15),
        "status": FileStatus.PARTIALLY_ACCEPTED,
        "file_codes": (),
        "counts": counts(accepted=2, rejected=1, review=1, not_applicable=1, duplicate=1),
        "records": records,
        "run_id": "scheduled__2024-01-15T00:00:00+00:00",
    }
    return Receipt(**(values | overrides))


def parse(path):
    doc = etree.parse(str(path))
    XSD.assertValid(doc)
    return doc


@pytest.mark.parametrize(
    ("status", "prefix"),
    [
        (FileStatus.ACCEPTED, "PR_"),
        (FileStatus.DUPLICATE, "PR_"),
        (FileStatus.PARTIALLY_ACCEPTED, "ER_"),
        (FileStatus.REJECTED, "ER_"),
        (FileStatus.QUARANTINED, "ER_"),
    ],
)
def test_receipt_name_prefix_follows_status(status, prefix):
    assert receipt_name("ROGDINF_1.xml", status) == f"{prefix}ROGDINF_1.xml"


def test_receipt_name_keeps_extension_and_drops_directories():
    assert receipt_name("NO_RASCHSV_1.XML", "accepted") == "PR_NO_RASCHSV_1.XML"
    assert receipt_name("inbox/fns/NO_RASCHSV_1.zip", "rejected") == "ER_NO_RASCHSV_1.zip.xml"
    assert receipt_name("noext", "accepted") == "PR_noext.xml"
    with pytest.raises(ValueError):
        receipt_name("x.xml", "lost")


def test_partial_receipt_is_valid_and_complete(tmp_path):
    path = write_receipt(make_receipt(), tmp_path)
    assert path.name == "ER_ROGDINF_20240115.xml"
    doc = parse(path)
    assert doc.getroot().get("version") == "1.0"
    file_el = doc.find("r:File", N)
    assert file_el.get("status") == "partially_accepted"
    assert file_el.get("sha256") == SHA
    assert file_el.get("received") == "2024-01-15T09:30:00+00:00"
    assert file_el.get("run") == "scheduled__2024-01-15T00:00:00+00:00"

    c = doc.find("r:Counts", N)
    outcomes = ("accepted", "rejected", "review", "duplicate", "notApplicable")
    assert int(c.get("received")) == sum(int(c.get(k)) for k in outcomes) == int(c.get("total"))
    assert c.get("received") == "6"

    records = doc.findall("r:Records/r:Record", N)
    assert [r.get("seq") for r in records] == ["1", "2", "3", "4", "5", "6"]
    assert records[0].get("enp") == "2341998071655749"
    assert records[1].get("enp") is None
    assert [x.get("code") for x in records[1].findall("r:Code", N)] == ["Z002", "Z003"]
    assert records[5].get("key") is None

    legend = {r.get("code"): r for r in doc.findall("r:Reasons/r:Reason", N)}
    assert set(legend) == {"Z001", "Z002", "Z003", "Z004", "Z006", "Z012"}
    assert legend["Z002"].findtext("r:TextRu", namespaces=N).startswith("Неверное")
    assert legend["Z006"].get("severity") == "warning"
    assert legend["Z006"].get("outcome") is None


def test_accepted_receipt_is_pr(tmp_path):
    records = (ReceiptRecord(1, "120249000000100001001", "accepted", (), "2341998071655749"),)
    receipt = make_receipt(status="accepted", records=records, counts=counts(accepted=1))
    path = write_receipt(receipt, tmp_path)
    assert path.name == "PR_ROGDINF_20240115.xml"
    parse(path)


def test_rejected_file_carries_file_codes_in_both_languages(tmp_path):
    receipt = make_receipt(
        file_name="NO_RASCHSV_1_162_00_05_08_02_20240415_ID.xml",
        feed="fns_rsv",
        status=FileStatus.REJECTED,
        file_codes=("F003", "F010"),
        counts=counts(),
        records=(),
    )
    doc = parse(write_receipt(receipt, tmp_path))
    codes = doc.findall("r:FileCodes/r:Reason", N)
    assert [c.get("code") for c in codes] == ["F003", "F010"]
    assert codes[0].findtext("r:TextRu", namespaces=N) == "Файл не соответствует XSD-схеме формата"
    assert (
        codes[0].findtext("r:TextEn", namespaces=N)
        == "File does not conform to the format's schema"
    )
    assert doc.findall("r:Records/r:Record", N) == []


def test_unreadable_file_of_unknown_feed_gets_a_receipt(tmp_path):
    receipt = make_receipt(
        file_name="garbage.bin",
        feed="unknown",
        status=FileStatus.QUARANTINED,
        file_codes=("F001",),
        counts=counts(),
        records=(),
    )
    path = write_receipt(receipt, tmp_path)
    assert path.name == "ER_garbage.bin.xml"
    assert parse(path).find("r:File", N).get("feed") == "unknown"


def test_duplicate_file_is_pr_and_names_the_original(tmp_path):
    # Each record of the original is accounted for again, as a duplicate.
    records = tuple(
        ReceiptRecord(seq, f"12024900000010000100{seq}", Outcome.DUPLICATE, ("F005",))
        for seq in (1, 2)
    )
    receipt = make_receipt(
        status=FileStatus.DUPLICATE,
        file_codes=("F005",),
        counts=counts(duplicate=2),
        records=records,
        duplicate_of="ROGDINF_20240114.xml",
    )
    path = write_receipt(receipt, tmp_path)
    assert path.name == "PR_ROGDINF_20240115.xml"
    doc = parse(path)
    assert doc.find("r:File", N).get("duplicateOf") == "ROGDINF_20240114.xml"
    assert [r.get("code") for r in doc.findall("r:Reasons/r:Reason", N)] == ["F005"]


def test_counts_that_do_not_add_up_are_refused(tmp_path):
    bad = counts(accepted=2, rejected=1, review=1, not_applicable=1, duplicate=1)
    bad["received"] = 7
    with pytest.raises(ValueError, match="sum"):
        write_receipt(make_receipt(counts=bad), tmp_path)
    wrong_split = counts(accepted=3, review=1, not_applicable=1, duplicate=1)
    with pytest.raises(ValueError, match="records"):
        write_receipt(make_receipt(counts=wrong_split), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_schema_rejects_what_the_model_allows_but_the_format_does_not(tmp_path):
    with pytest.raises(etree.DocumentInvalid):
        write_receipt(make_receipt(feed="gibdd"), tmp_path)
    bad_enp = (ReceiptRecord(1, "k", "accepted", (), "123"),)
    with pytest.raises(etree.DocumentInvalid):
        write_receipt(make_receipt(records=bad_enp, counts=counts(accepted=1)), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rewrite_is_byte_identical(tmp_path):
    first = write_receipt(make_receipt(), tmp_path).read_bytes()
    second = write_receipt(make_receipt(), tmp_path).read_bytes()
    assert first == second
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


KEYS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("&<>\"'\t\n\r"),
    max_size=12,
)
RECORDS = st.lists(
    st.tuples(
        st.none() | KEYS,
        st.sampled_from([o.value for o in Outcome]),
        st.lists(st.sampled_from(["Z001", "Z002", "Z004", "Z012"]), max_size=3),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(RECORDS, st.sampled_from([(), ("F003",)]))
def test_streamed_receipt_is_the_bytes_of_the_whole_tree(tmp_path_factory, rows, file_codes):
    """The receipt written record by record is, byte for byte, the tree serialised whole: keys
    with markup, quotes and line breaks are escaped as libxml2 escapes them, and an empty file
    keeps its empty Records element."""
    records = tuple(
        ReceiptRecord(seq, key, outcome, tuple(codes), "2341998071655749" if seq % 2 else None)
        for seq, (key, outcome, codes) in enumerate(rows, 1)
    )
    tally = {o.value: sum(r.outcome == o.value for r in records) for o in Outcome}
    receipt = make_receipt(records=records, counts=counts(**tally), file_codes=file_codes)
    whole = xml_bytes(receipt_xml(receipt), SCHEMA)
    assert write_receipt(receipt, tmp_path_factory.mktemp("r")).read_bytes() == whole


def test_streamed_receipt_reads_its_records_without_holding_them(tmp_path):
    """The records may be a source read anew each time (the register's rows): the receipt reads
    it twice, once for its legend and once for its records, and lists each record once."""
    reads = []

    class Rows:
        def __iter__(self):
            reads.append(1)
            yield from make_receipt().records

    streamed = write_receipt(make_receipt(records=Rows()), tmp_path).read_bytes()
    assert len(reads) == 2
    assert streamed == xml_bytes(receipt_xml(make_receipt()), SCHEMA)


def test_streamed_receipt_with_counts_that_are_not_its_records_is_not_written(tmp_path):
    wrong = counts(accepted=3, rejected=1, review=1, not_applicable=1)
    with pytest.raises(ValueError, match="counts do not match"):
        write_receipt(make_receipt(counts=wrong), tmp_path)
    assert list(tmp_path.iterdir()) == []
