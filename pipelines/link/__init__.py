"""Link stage: find the people of a record in the register — by source key, СНИЛС, or name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.enrol.register_ops import name_key
from pipelines.identifiers import snils_is_valid, snils_normalize
from pipelines.records import Absent, FullName, Parent, PartialDate
from pipelines.register.models import Person, PersonKey


def text(value: object) -> str | None:
    """A text field as the register stores it: explicit absence and blanks become None."""
    if isinstance(value, Absent) or value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def complete_date(value: object):
    return value.to_date() if isinstance(value, PartialDate) else None


def source_key(session: Session, kind: str, value: str) -> PersonKey | None:
    return session.get(PersonKey, (kind, value))


def by_snils(session: Session, snils: str | None) -> Person | None:
    digits = snils_normalize(snils) if snils else None
    if digits is None:
        return None
    return session.scalar(select(Person).where(Person.snils == digits))


def by_name(session: Session, name: FullName, birth) -> Person | None:
    """The one person with this normalised full name and birth date; None if none or several."""
    key = name_key(text(name.last_name), text(name.first_name), text(name.middle_name), birth)
    if key is None:
        return None
    found = session.scalars(select(Person).where(Person.name_key == key).limit(2)).all()
    return found[0] if len(found) == 1 else None


def find_parent(session: Session, parent: Parent | Absent | None) -> Person | None:
    """A parent by СНИЛС when it is valid, else by full name and complete birth date."""
    if not isinstance(parent, Parent):
        return None
    if parent.snils and snils_is_valid(parent.snils):
        found = by_snils(session, parent.snils)
        if found is not None:
            return found
    return by_name(session, parent.name, complete_date(parent.birth_date))
