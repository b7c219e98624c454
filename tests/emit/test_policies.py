import json
from datetime import date

import pytest

from pipelines.emit.model import IssuedPolicy
from pipelines.emit.policies import write_policies

FIELDS = {
    "enp",
    "kind",
    "status",
    "valid_from",
    "valid_to",
    "insurer_code",
    "source_feed",
    "source_file",
    "record_key",
    "reason",
}


def policy(**overrides):
    values = {
        "enp": "2341998071655749",
        "status": "active",
        "valid_from": date(2024, 1, 15),
        "valid_to": None,
        "insurer_code": "45001",
        "person_ref": "person:8f3a",
        "source_feed": "zags_births",
        "source_file": "ROGDINF_20240115.xml",
        "record_key": "120249000000100001001",
        "reason": "newborn",
    }
    return IssuedPolicy(**(values | overrides))


def test_one_line_per_policy_without_personal_data(tmp_path):
    policies = [
        policy(),
        policy(
            enp="8451999122899990",
            valid_from=date(2025, 4, 20),
            valid_to=date(2025, 12, 31),
            source_feed="fns_rsv",
            source_file="NO_RASCHSV_1_162_00_05_08_02_20250420_ID.xml",
            record_key="148-481-255 85",
            reason="foreign_worker",
        ),
        policy(  # a key as the sender wrote it, not shaped like a СНИЛС, is masked all the same
            enp="8451999122899982",
            source_feed="fns_rsv",
            record_key="1484812558",
            reason="foreign_worker",
        ),
    ]
    path = write_policies(policies, tmp_path, "scheduled__2025-04-20T00:00:00+00:00")
    assert path.name == "policies_scheduled__2025-04-20T00_00_00_00_00.jsonl"
    text = path.read_text("utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert all(set(line) == FIELDS for line in lines)
    assert lines[0] == {
        "enp": "2341998071655749",
        "kind": "electronic",
        "status": "active",
        "valid_from": "2024-01-15",
        "valid_to": None,
        "insurer_code": "45001",
        "source_feed": "zags_births",
        "source_file": "ROGDINF_20240115.xml",
        "record_key": "120249000000100001001",
        "reason": "newborn",
    }
    assert lines[1]["valid_to"] == "2025-12-31"
    assert "481-255" not in text and "1484812558" not in text
    assert lines[1]["record_key"] == "***-***-*55 85"
    assert lines[2]["record_key"] == "***-***-*** **"
    assert "person:8f3a" not in text


def test_a_run_with_no_policies_gets_an_empty_file(tmp_path):
    path = write_policies([], tmp_path, "r1")
    assert path.read_bytes() == b""


def test_invalid_enp_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ЕНП"):
        write_policies([policy(enp="2341998071655740")], tmp_path, "r1")
    assert list(tmp_path.iterdir()) == []
