from datetime import date

import pytest
from lxml import etree

from pipelines.emit import xml_bytes
from pipelines.emit.model import InsurerNotice, NoticeItem
from pipelines.emit.notice import NS, SCHEMA, notice_name, notice_xml, write_notice
from pipelines.resources import schemas_dir

XSD = etree.XMLSchema(etree.parse(str(schemas_dir() / "notice" / "insurer-notice-1.0.xsd")))
N = {"n": NS}


def newborn(**overrides):
    values = {
        "enp": "2341998071655749",
        "snils": "148-481-255 85",
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "Петровна",
        "birth_date": date(2024, 1, 10),
        "sex": 2,
        "event": "enrolled_newborn",
        "policy_valid_from": date(2024, 1, 15),
        "policy_valid_to": None,
        "assigned_on": date(2024, 1, 15),
        "basis": "mother_insurer",
        "source_file": "ROGDINF_20240115.xml",
        "record_key": "120249000000100001001",
    }
    return NoticeItem(**(values | overrides))


def worker():
    return NoticeItem(
        enp="8451999122899990",
        snils=None,
        last_name="Каримов",
        first_name="Азиз",
        middle_name=None,
        birth_date=None,
        sex=None,
        event="enrolled_foreign_worker",
        policy_valid_from=date(2025, 4, 20),
        policy_valid_to=date(2025, 12, 31),
        assigned_on=date(2025, 4, 20),
        basis="fund_share",
        source_file=None,
        record_key=None,
    )


def notice(items, run_id="manual__2024-01-15T10:00:00+03:00"):
    return InsurerNotice("45001", "АО «Страховая компания»", run_id, date(2024, 1, 15), "45", items)


def test_notice_name_is_sanitised():
    assert (
        notice_name("45001", "manual__2024-01-15T10:00:00+03:00")
        == "NOTICE_45001_manual__2024-01-15T10_00_00_03_00.xml"
    )
    assert notice_name("45/../001", "r") == "NOTICE_45____001_r.xml"


def test_notice_is_valid_and_carries_what_the_insurer_needs(tmp_path):
    path = write_notice(notice((newborn(), worker())), tmp_path)
    assert path.parent == tmp_path
    assert path.name == "NOTICE_45001_manual__2024-01-15T10_00_00_03_00.xml"
    doc = etree.parse(str(path))
    XSD.assertValid(doc)

    assert doc.find("n:Insurer", N).get("name") == "АО «Страховая компания»"
    assert doc.find("n:Fund", N).get("region") == "45"
    persons = doc.find("n:Persons", N)
    assert persons.get("count") == "2"
    child, adult = persons.findall("n:Person", N)

    assert child.get("enp") == "2341998071655749"
    assert child.get("event") == "enrolled_newborn"
    assert child.get("basis") == "mother_insurer"
    assert child.findtext("n:LastName", namespaces=N) == "Иванова"
    assert child.findtext("n:MiddleName", namespaces=N) == "Петровна"
    assert child.findtext("n:BirthDate", namespaces=N) == "2024-01-10"
    assert child.findtext("n:Sex", namespaces=N) == "2"
    assert child.findtext("n:Snils", namespaces=N) == "14848125585"
    policy = child.find("n:Policy", N)
    assert policy.get("validFrom") == "2024-01-15"
    assert policy.get("validTo") is None  # no end date

    assert adult.find("n:MiddleName", N) is None
    assert adult.find("n:Snils", N) is None
    assert adult.get("sourceFile") is None
    assert adult.find("n:Policy", N).get("validTo") == "2025-12-31"


def test_empty_notice_is_valid(tmp_path):
    doc = etree.parse(str(write_notice(notice(()), tmp_path)))
    XSD.assertValid(doc)
    assert doc.find("n:Persons", N).get("count") == "0"


@pytest.mark.parametrize(
    "bad",
    [
        {"event": "moved_abroad"},
        {"basis": "lottery"},
        {"enp": "23419980716557"},
        {"snils": "1122334459"},
        {"sex": 3},
    ],
)
def test_out_of_format_items_are_refused(tmp_path, bad):
    with pytest.raises(etree.DocumentInvalid):
        write_notice(notice((newborn(**bad),)), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [0, 1, 2, 999, 1000, 1001, 2500])
def test_streamed_notice_is_the_bytes_of_the_whole_tree(tmp_path, size):
    """Streamed a thousand people at a time, the notice is byte for byte the tree serialised
    whole, at every chunk boundary, with names that carry markup and quotes."""
    items = tuple(
        newborn(last_name=f"Иванова<{i}>&\"'", record_key=f"k&{i}") if i % 3 else worker()
        for i in range(size)
    )
    whole = xml_bytes(notice_xml(notice(items)), SCHEMA)
    assert write_notice(notice(items), tmp_path).read_bytes() == whole


def test_streamed_notice_reads_its_people_without_holding_them(tmp_path):
    """The people may be a source read anew each time (the register's rows): it is read twice,
    for the count and for the people; a source that changes between the two is not written."""
    reads = []

    class Rows:
        def __iter__(self):
            reads.append(1)
            yield from (newborn(), worker())[: 3 - len(reads)]

    with pytest.raises(ValueError, match="changed"):
        write_notice(notice(Rows()), tmp_path)
    assert len(reads) == 2 and list(tmp_path.iterdir()) == []
