"""Read-only views of the register: the exports and the policy extract."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.enrol.register_ops import latest_policy
from pipelines.register.models import Insurer, Person, Policy, ReceivedFile, ReceivedRecord


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def persons(session: Session) -> Iterator[dict]:
    """``erzl register export``: one object per person, with the policy in force or latest."""
    for person in session.scalars(select(Person).order_by(Person.id)):
        policy = latest_policy(session, person.id)
        yield {
            "enp": policy.enp if policy else None,
            "snils": person.snils,
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "birth_date": _iso(person.birth_date),
            "sex": person.sex,
            "insurer_code": person.insurer_code,
            "working": person.working,
            "employer_inn": person.employer_inn,
            "employer_kpp": person.employer_kpp,
            "policy": {
                "status": policy.status,
                "valid_from": _iso(policy.valid_from),
                "valid_to": _iso(policy.valid_to),
            }
            if policy
            else None,
        }


def records(session: Session) -> Iterator[dict]:
    """``erzl records export``: one object per received record, with its one outcome."""
    query = (
        select(ReceivedRecord, ReceivedFile.name, ReceivedFile.owner_run_id)
        .join(ReceivedFile, ReceivedFile.id == ReceivedRecord.file_id)
        .order_by(ReceivedRecord.file_id, ReceivedRecord.seq)
    )
    for record, file_name, run_id in session.execute(query):
        yield {
            "file": file_name,
            "file_id": record.file_id,
            "seq": record.seq,
            "run_id": run_id,  # the run that applied the file (or took it over)
            "record_key": record.record_key,
            "status": record.outcome,
            "codes": list(record.codes or ()),
            "enp": record.enp,
        }


def policy_extract(session: Session, enp: str, fund_region: str):
    from pipelines.emit.model import PolicyExtract

    policy = session.get(Policy, enp)
    if policy is None:
        return None
    person = session.get(Person, policy.person_id)
    insurer = session.get(Insurer, person.insurer_code) if person.insurer_code else None
    return PolicyExtract(
        enp=policy.enp,
        last_name=person.last_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        birth_date=person.birth_date,
        sex=person.sex,
        insurer_code=person.insurer_code or "",
        insurer_name=insurer.name if insurer else "",
        status=policy.status,
        valid_from=policy.valid_from,
        valid_to=policy.valid_to,
        fund_region=fund_region,
        issued_on=policy.valid_from,
    )
