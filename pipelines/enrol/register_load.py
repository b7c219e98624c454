"""The initial load of the fund's existing register from CSV (``erzl register load``)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from pipelines.enrol.register_ops import Provenance, create_person, ensure_insurer
from pipelines.identifiers import enp_is_valid, snils_is_valid, snils_normalize
from pipelines.link import by_snils
from pipelines.register.models import IdentityDocument, InsurerAssignment, Policy

COLUMNS = (
    "enp",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer_code",
    "policy_status",
)
# Optional: the identity document on file, which confirms a link by name and birth date (a
# mother found without a СНИЛС, pipelines.link). Files without these columns load as before.
DOCUMENT_COLUMNS = ("document_kind", "document_series", "document_number")
STATUSES = {"active", "suspended", "lapsed", "closed"}


class LoadError(ValueError):
    """A row of the load file is unusable; the message names the line, never its values."""


def load_register(session: Session, path: Path, *, run_id: str | None = None) -> Counter:
    """Insert every person of the file that is not there yet (keyed by ЕНП, then СНИЛС).

    The whole file is one transaction: a bad row stops the load with its line number and
    nothing is written. Loading the same file again changes nothing.
    """
    counts: Counter = Counter()
    prov = Provenance(run_id)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise LoadError(f"missing column(s): {', '.join(sorted(missing))}")
        for line_no, row in enumerate(reader, start=2):
            values = {k: (row.get(k) or "").strip() for k in (*COLUMNS, *DOCUMENT_COLUMNS)}
            _check(values, line_no)
            snils = snils_normalize(values["snils"]) if values["snils"] else None
            if session.get(Policy, values["enp"]) is not None or (
                snils and by_snils(session, snils)
            ):
                counts["already_present"] += 1
                continue
            insurer = values["insurer_code"] or None
            if insurer:
                ensure_insurer(session, insurer)
            person = create_person(
                session,
                prov,
                origin="register_load",
                included_on=None,
                snils=snils,
                last_name=values["last_name"] or None,
                first_name=values["first_name"] or None,
                middle_name=values["middle_name"] or None,
                birth_date=date.fromisoformat(values["birth_date"]),
                sex=int(values["sex"]) if values["sex"] else None,
                insurer_code=insurer,
            )
            session.add(
                Policy(
                    enp=values["enp"],
                    person_id=person.id,
                    kind="electronic",
                    status=values["policy_status"] or "active",
                    reason="register_load",
                )
            )
            if values["document_number"]:
                session.add(
                    IdentityDocument(
                        person_id=person.id,
                        kind=values["document_kind"] or "21",
                        series=values["document_series"] or None,
                        number=values["document_number"],
                        current=True,
                    )
                )
            if insurer:
                session.add(
                    InsurerAssignment(
                        person_id=person.id,
                        insurer_code=insurer,
                        assigned_on=date.today(),
                        basis="register_load",
                    )
                )
            session.flush()
            counts["loaded"] += 1
    return counts


def _check(values: dict[str, str], line_no: int) -> None:
    if not enp_is_valid(values["enp"]):
        raise LoadError(f"line {line_no}: enp is not a valid 16-digit ЕНП")
    if values["snils"] and not snils_is_valid(values["snils"]):
        raise LoadError(f"line {line_no}: snils has a wrong check digit")
    try:
        date.fromisoformat(values["birth_date"])
    except ValueError:
        raise LoadError(f"line {line_no}: birth_date is not YYYY-MM-DD") from None
    if values["sex"] not in ("", "1", "2"):
        raise LoadError(f"line {line_no}: sex must be 1 or 2")
    if values["policy_status"] and values["policy_status"] not in STATUSES:
        raise LoadError(f"line {line_no}: policy_status must be one of {sorted(STATUSES)}")
