"""What the emit stage is given: plain values the orchestration builds from the register.

Strings that name a catalogue value (outcome, status, severity) accept the enums from
:mod:`pipelines.codes` as well, since those are ``StrEnum``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from pipelines.codes import Outcome, reason

# "unknown": a file that could not be read far enough to tell (F001, F004); it still gets a receipt.
FEEDS = ("zags_births", "fns_rsv", "unknown")
EVENTS = (
    "enrolled_newborn",
    "enrolled_foreign_worker",
    "policy_renewed",
    "policy_lapsed",
    "insurer_assigned",
)
# Why this СМО: the mother's, the fund's share-based assignment, the person's own earlier choice
# or the insurer the person already had (a renewal keeps it).
BASES = ("mother_insurer", "fund_share", "own_choice", "previous_insurer")

OUTCOME_KEYS: tuple[str, ...] = tuple(o.value for o in Outcome)
COUNT_KEYS: tuple[str, ...] = ("received", *OUTCOME_KEYS)


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    seq: int  # 1-based position of the record in the received file
    record_key: str | None  # the natural key the sender knows (act number, СНИЛС+month …)
    outcome: str  # Outcome value
    codes: tuple[str, ...] = ()
    enp: str | None = None  # the policy issued or renewed for this record, if any


@dataclass(frozen=True, slots=True)
class Receipt:
    """The protocol (протокол ФЛК) sent back to the sender of one file."""

    file_name: str
    feed: str  # one of FEEDS
    sha256: str | None  # None: the file was refused before it was hashed (too large)
    received_at: datetime
    processed_on: date
    status: str  # FileStatus value
    file_codes: tuple[str, ...]
    counts: Mapping[str, int]  # COUNT_KEYS
    # in file order; iterated more than once, so a tuple or a source read anew each time
    records: Iterable[ReceiptRecord]
    run_id: str
    duplicate_of: str | None = None  # name of the file these bytes were first received as
    format: str | None = None  # the format and version the file named ("ROGDZP 4.0.1")
    detail: str | None = None  # why the file was refused: a line and an element, never a value
    # the codes its records carry, when the caller knows them without reading every record
    record_codes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One person an СМО must inform, with everything it needs to reach them."""

    enp: str
    snils: str | None
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    birth_date: date | None
    sex: int | None  # 1 male, 2 female
    event: str  # one of EVENTS
    policy_valid_from: date
    policy_valid_to: date | None  # None: no end date
    assigned_on: date
    basis: str  # one of BASES
    source_file: str | None
    record_key: str | None


@dataclass(frozen=True, slots=True)
class InsurerNotice:
    insurer_code: str
    insurer_name: str
    run_id: str
    created_on: date
    fund_region: str
    # iterated more than once, so a tuple or a source read anew each time
    items: Iterable[NoticeItem]
    count: int | None = None  # how many items there are, when known without reading them


@dataclass(frozen=True, slots=True)
class IssuedPolicy:
    enp: str
    status: str
    valid_from: date
    valid_to: date | None
    insurer_code: str
    person_ref: str  # opaque register reference; never written out
    source_feed: str
    source_file: str | None
    record_key: str | None
    reason: str  # why it was issued or renewed, e.g. "newborn", "foreign_worker", "renewal"
    kind: str = "electronic"


@dataclass(frozen=True, slots=True)
class RuleCount:
    code: str
    outcome: str | None
    severity: str
    text: str  # English
    count: int

    @classmethod
    def of(cls, code: str, count: int) -> RuleCount:
        """A count for a catalogue code, with its outcome, severity and text from the catalogue."""
        r = reason(code)
        return cls(code, r.outcome, r.severity, r.text, count)


@dataclass(frozen=True, slots=True)
class FileReport:
    file_name: str
    feed: str
    status: str
    file_codes: tuple[str, ...]
    counts: Mapping[str, int]  # COUNT_KEYS
    rule_counts: tuple[RuleCount, ...]
    records: tuple[ReceiptRecord, ...]


@dataclass(frozen=True, slots=True)
class RunReport:
    run_id: str
    as_of: date
    started_at: datetime
    finished_at: datetime
    files: tuple[FileReport, ...]
    totals: Mapping[str, int]  # enrolled, policies_issued, review, notifications, …
    run_codes: tuple[RuleCount, ...]


@dataclass(frozen=True, slots=True)
class PolicyExtract:
    """The electronic policy as the holder sees it on the state portal."""

    enp: str
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    birth_date: date | None
    sex: int | None
    insurer_code: str
    insurer_name: str
    status: str
    valid_from: date
    valid_to: date | None
    fund_region: str
    issued_on: date


def check_counts(counts: Mapping[str, int], records: Iterable[ReceiptRecord] = ()) -> None:
    """Raise ValueError unless received equals the sum of the five outcomes and, when records
    are listed, the counts are theirs."""
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        raise ValueError(f"counts lack {', '.join(missing)}")
    if any(counts[k] < 0 for k in COUNT_KEYS):
        raise ValueError("negative count")
    if counts["received"] != sum(counts[k] for k in OUTCOME_KEYS):
        raise ValueError(f"received {counts['received']} is not the sum of the outcomes")
    listed = list(records)
    if listed:
        by_outcome = {k: 0 for k in OUTCOME_KEYS}
        for record in listed:
            by_outcome[Outcome(record.outcome).value] += 1
        if len(listed) != counts["received"] or any(
            by_outcome[k] != counts[k] for k in OUTCOME_KEYS
        ):
            raise ValueError("counts do not match the records listed")
