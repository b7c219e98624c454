"""The parse floor: one process streaming a file with lxml.iterparse and pulling out the fields
the pipeline uses — no project code, no records built, no checks. Every figure of the benchmark
is set beside the floor measured on the same file in the same run.

Each function returns the number of records read. The parser options are the pipeline's own
hostile-input options (no entities, no DTD, no network), which cost nothing measurable.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

# the namespaces are the format's, not the parser's: the floor imports no project code
ROGDINF_ROOT = "{urn://x-artefacts-zags-rogdinf/root/112-51/4.0.1}"
ROGDINF_TYPES = "{urn://x-artefacts-zags-rogdinf/types/4.0.1}"
_OPTIONS = {"resolve_entities": False, "load_dtd": False, "no_network": True, "huge_tree": False}

# What pipelines.parse.zags reads of a СведРегРожд beside its own attributes: element text,
# or the attributes of the elements that carry their values there.
_BIRTH_TEXT = {
    *(
        ROGDINF_ROOT + t
        for t in ("ДатаЗапис", "ЖивМертв", "Пол", "ДатаРождКаленд", "ЧислоРодДетей", "Счет")
    ),
    *(
        ROGDINF_TYPES + t
        for t in (
            "Фамилия",
            "Имя",
            "Отчество",
            "ДатаРождКаленд",
            "ГраждОКСМ",
            "ГраждТекст",
            "КодВидДок",
            "СерДок",
            "НомДок",
            "ДатаДокКаленд",
            "ВыдДок",
            "СерияСвидет",
            "НомерСвидет",
            "ДатаВыдСвидет",
            "АдрТекст",
            "Год",
            "Месяц",
            "День",
        )
    ),
}
_BIRTH_ATTRIBUTES = {
    ROGDINF_ROOT + t for t in ("ОрганЗАГС", "СведРодившемся", "СведМать", "СведОтец", "МестоРожден")
} | {ROGDINF_TYPES + t for t in ("АдрРФФИАС", "АдрРФНеФИАС")}
_BIRTH_RECORD = ROGDINF_ROOT + "СведРегРожд"


def _drop(elem: etree._Element) -> None:
    # what iterparse has built so far is let go, as the pipeline's readers do
    elem.clear(keep_tail=False)
    while elem.getprevious() is not None:
        del elem.getparent()[0]


def births(paths: Iterable[Path]) -> int:
    """ROGDINF 4.0.1: every СведРегРожд with the values the parser turns into a BirthRecord."""
    count = 0
    for path in paths:
        context = etree.iterparse(str(path), events=("end",), tag=_BIRTH_RECORD, **_OPTIONS)
        for _event, elem in context:
            fields: dict = dict(elem.attrib)
            for child in elem.iterdescendants():
                tag = child.tag
                if tag in _BIRTH_TEXT:
                    fields[tag] = child.text
                elif tag in _BIRTH_ATTRIBUTES:
                    fields[tag] = dict(child.attrib)
            count += 1
            _drop(elem)
    return count


def rsv(paths: Iterable[Path]) -> int:
    """РСВ: every ПерсСвСтрахЛиц with its person data, name and monthly payments."""
    count = 0
    for path in paths:
        context = etree.iterparse(str(path), events=("end",), tag="ПерсСвСтрахЛиц", **_OPTIONS)
        for _event, elem in context:
            fields = {"ПрАннулир": elem.get("ПрАннулир")}
            payments = []
            for child in elem.iter("ДанФЛПолуч", "ФИО", "СвВыплМК"):
                if child.tag == "СвВыплМК":
                    payments.append(dict(child.attrib))
                else:
                    fields[child.tag] = dict(child.attrib)
            fields["payments"] = payments
            count += 1
            _drop(elem)
    return count


def register_csv(paths: Iterable[Path]) -> int:
    """The register load's CSV: every row's columns, by the csv module (what the load reads)."""
    count = 0
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                dict(zip(header, row, strict=False))
                count += 1
    return count


FLOORS = {"births": births, "rsv": rsv, "register": register_csv}
