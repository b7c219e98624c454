"""Hostile input ends quarantined with a reason, never a crash, and costs what it should.

Every file here is built by the test from a valid one (or from nothing): an entity bomb behind
a prologue longer than any window a pre-check might read, a DTD after the root element, an
external entity, a UTF-16 document with a DTD; a sparse file far over the size limit; a long
legal file name; a file still being written into the inbox.
"""

from __future__ import annotations

import os
import random
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree

from pipelines import cli, intake, run, tasks
from pipelines.demo import zags_gen
from tests.helpers import AS_OF, RECEIPT_NS, json_lines, register

BOMB = (
    '<!DOCTYPE ROGDINFResponse [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>\n"
)


def _valid(tmp_path: Path, name: str = "ROGDINF_valid.xml") -> Path:
    specs = zags_gen.random_birth_specs(
        random.Random(3), 2, act_date=AS_OF - timedelta(days=1), stillborn_rate=0,
        partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0, twins_rate=0,
    )  # fmt: skip
    return zags_gen.write_rogdinf(tmp_path / name, specs, request_id="r-h")


def _with_prologue(valid: bytes, insert: bytes) -> bytes:
    """``insert`` placed between the XML declaration and the root element."""
    declaration, _, rest = valid.partition(b"?>")
    return declaration + b"?>\n" + insert + rest


def _hostile(tmp_path: Path) -> dict[str, Path]:
    valid = _valid(tmp_path).read_bytes()
    long_comment = b"<!--" + b"x" * (256 * 1024) + b"-->\n"
    made = {
        "bomb_after_long_comment": _with_prologue(valid, long_comment + BOMB.encode()),
        "bomb_after_a_megabyte_of_comments": _with_prologue(
            valid, long_comment * 4 + BOMB.encode()
        ),
        "doctype_after_the_root": valid + b"\n" + BOMB.encode(),
        "external_entity": _with_prologue(
            valid, b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        ),
        "parameter_entity": _with_prologue(
            valid, b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>\n'
        ),
        "utf16_with_doctype": ('<?xml version="1.0" encoding="UTF-16"?>\n' + BOMB + "<r/>").encode(
            "utf-16"
        ),
        # encodings the pre-parse scan cannot read are refused before libxml2 sees them (F001)
        "utf32_with_doctype": ('<?xml version="1.0" encoding="UTF-32"?>\n' + BOMB + "<r/>").encode(
            "utf-32"
        ),
        "ucs4_without_bom": ("<r>" + BOMB + "</r>").encode("utf-32-le"),
        "utf7_with_doctype": b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE r+AD4-<r/>',
    }
    paths = {}
    for name, data in made.items():
        path = tmp_path / f"ROGDINF_{name}.xml"
        path.write_bytes(data)
        paths[name] = path
    return paths


def test_hostile_files_are_quarantined_before_parsing_and_the_run_finishes(
    settings, tmp_path, capsys
):
    hostile = _hostile(tmp_path)
    assert (
        cli.main(["ingest", "--json", "--as-of", AS_OF.isoformat(), *map(str, hostile.values())])
        == cli.EXIT_REFUSED
    )
    *files, totals = json_lines(capsys.readouterr().out)

    def expected(name: str) -> str:
        return "F001" if name.startswith(("utf32", "ucs4", "utf7")) else "F002"

    assert {(f["file"], f["status"], tuple(f["codes"])) for f in files} == {
        (p.name, "quarantined", (expected(n),)) for n, p in hostile.items()
    }
    assert totals["files"] == len(hostile)
    for name, path in hostile.items():
        reason = next(settings.quarantine.rglob(f"{path.name}.reason.txt"))
        assert reason.read_text("utf-8").startswith(expected(name) + "\n")
    assert register(settings) == []
    assert cli.main(["check"]) == 0


def test_a_sparse_file_over_the_limit_is_refused_unread_and_kept_once(
    settings, tmp_path, monkeypatch
):
    """3 GB (sparse) dropped into the inbox: refused with F007 before a byte is hashed or
    copied; the one copy kept is the file itself, renamed into quarantine."""
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True)
    big = inbox / "ROGDINF_huge.xml"
    with big.open("wb") as fh:
        fh.truncate(3 * 1024**3)

    def never(*args):
        raise AssertionError("an oversized file was hashed or copied")

    with monkeypatch.context() as patched:
        patched.setattr(intake, "archive", never)
        claimed = tasks.claim("zags_births", "zags_births_ingest", "manual__huge", AS_OF)
        [summary] = tasks.process(claimed)
        tasks.finish(claimed)

    assert (summary["status"], summary["codes"], summary["received"]) == (
        "quarantined",
        ["F007"],
        0,
    )
    assert not any(p.is_file() for p in settings.archive.rglob("*"))
    kept = [p for p in settings.quarantine.rglob("*") if p.is_file()]
    assert sorted(p.name for p in kept) == ["ROGDINF_huge.xml", "ROGDINF_huge.xml.reason.txt"]
    assert not big.exists()
    sent = etree.parse(summary["receipt"]).getroot().find(f"{RECEIPT_NS}File")
    assert sent.get("status") == "quarantined" and sent.get("sha256") is None
    assert cli.main(["check"]) == 0


def test_a_long_legal_name_gets_a_bounded_receipt_that_names_the_file(settings, tmp_path):
    name = "Р" * 125 + ".xml"  # 254 bytes: legal, and too long for PR_ in front of it
    assert len(name.encode()) == 254
    path = _valid(tmp_path, name)
    broken = tmp_path / ("Б" * 125 + ".xml")
    broken.write_bytes(path.read_bytes()[:-40])

    files, totals = run.ingest(settings, [path, broken], as_of=AS_OF)

    assert [f.status for f in files] == ["accepted", "quarantined"]
    for summary in files:
        receipt = Path(summary.receipt)
        assert receipt.is_file() and len(receipt.name.encode()) <= 200
        assert receipt.name.startswith(("PR_", "ER_"))
        root = etree.parse(str(receipt)).getroot()
        assert root.find(f"{RECEIPT_NS}File").get("name") in (name, broken.name)
    kept = [p.name for p in settings.quarantine.rglob("*") if p.is_file()]
    assert all(len(k.encode()) <= 200 for k in kept) and len(kept) == 2
    assert totals.enrolled == 2
    assert cli.main(["check"]) == 0


def test_a_file_still_being_written_is_left_for_the_next_run(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("ERZL_SETTLE_SECONDS", "30")
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True)
    growing = inbox / "ROGDINF_growing.xml"
    growing.write_bytes(_valid(tmp_path).read_bytes()[:500])  # the sender is not done

    first = tasks.claim("zags_births", "zags_births_ingest", "manual__one", AS_OF)
    assert first["file_ids"] == [] and growing.exists()

    growing.write_bytes(_valid(tmp_path).read_bytes())  # done now; and some time has passed
    past = time.time() - 60
    os.utime(growing, (past, past))
    second = tasks.claim("zags_births", "zags_births_ingest", "manual__two", AS_OF)
    assert len(second["file_ids"]) == 1
    [summary] = tasks.process(second)
    assert summary["status"] == "accepted" and summary["accepted"] == 2


@pytest.mark.parametrize("size", [0, 1])
def test_an_empty_or_blank_file_is_quarantined_not_a_crash(settings, tmp_path, size):
    path = tmp_path / "ROGDINF_blank.xml"
    path.write_bytes(b" " * size)
    [summary], _ = run.ingest(settings, [path], as_of=date(2026, 3, 2))
    assert (summary.status, summary.codes) == ("quarantined", ["F007"])


def test_a_name_that_is_not_utf8_or_holds_control_characters_is_journalled_safely(
    settings, tmp_path
):
    inbox = settings.feed_inbox("zags_births")
    inbox.mkdir(parents=True)
    valid = _valid(tmp_path).read_bytes()
    (inbox / os.fsdecode(b"ROGDINF_\xff\xfe.xml")).write_bytes(valid)
    (inbox / "ROGDINF_new\nline.xml").write_bytes(valid.replace(b"r-h", b"r-i"))

    claimed = tasks.claim("zags_births", "zags_births_ingest", "manual__names", AS_OF)
    summaries = tasks.process(claimed)
    tasks.finish(claimed)

    assert sorted(s["file"] for s in summaries) == [
        "ROGDINF_new_line.xml",
        "ROGDINF_\ufffd\ufffd.xml",
    ]
    assert {s["status"] for s in summaries} == {"accepted"}  # the second: its acts are Z005
    assert all("\n" not in Path(s["receipt"]).name for s in summaries)
    assert cli.main(["check"]) == 0
