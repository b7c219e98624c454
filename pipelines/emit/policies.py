"""The machine-readable list of policies issued or renewed in a run, one JSON object a line.

It identifies people only by ЕНП: no names, СНИЛС or birth dates. A record key is masked by the
feed it comes from, as the analysts' report masks it (an РСВ key is the person's СНИЛС, as the
sender wrote it, which need not look like one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pipelines.emit import safe_name, write_atomic_stream
from pipelines.emit.model import IssuedPolicy
from pipelines.identifiers import enp_is_valid
from pipelines.privacy import mask_record_key, redact


def policies_name(run_id: str) -> str:
    return f"policies_{safe_name(run_id)}.jsonl"


def policy_line(policy: IssuedPolicy) -> dict[str, str | None]:
    if not enp_is_valid(policy.enp):
        raise ValueError("policy number is not a valid ЕНП")
    return {
        "enp": policy.enp,
        "kind": policy.kind,
        "status": policy.status,
        "valid_from": policy.valid_from.isoformat(),
        "valid_to": policy.valid_to.isoformat() if policy.valid_to else None,
        "insurer_code": policy.insurer_code,
        "source_feed": policy.source_feed,
        "source_file": policy.source_file and redact(policy.source_file),
        "record_key": mask_record_key(policy.source_feed, policy.record_key),
        "reason": policy.reason,
    }


def write_policies(policies: Iterable[IssuedPolicy], out_dir: Path, run_id: str) -> Path:
    """Write ``out_dir/policies_<run id>.jsonl``; a run that issued nothing gets an empty file.
    The policies are written as they come: a run's list is never held."""

    def write(handle) -> None:
        for policy in policies:
            handle.write((json.dumps(policy_line(policy), ensure_ascii=False) + "\n").encode())

    return write_atomic_stream(Path(out_dir) / policies_name(run_id), write, kind="policies")
