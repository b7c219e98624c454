"""Link stage: find the people of a record in the register — by source key, СНИЛС, or name.

Without a СНИЛС (ROGDZP carries none; a ROGDINF one may be wrong) a person is found by the
normalised full name and the birth date (``register_ops.name_key``: case, ``ё``/``е``, hyphens and
spacing do not matter), confirmed by the identity document when the record has one and the
register holds documents for the candidate. Two candidates are never guessed between: the
answer then says why none was chosen, and the caller holds the record for review. Each answer
says which keys matched, for the record's ``links``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.enrol.register_ops import name_key, normalise_name
from pipelines.identifiers import snils_is_valid, snils_normalize
from pipelines.records import Absent, FullName, IdentityDocument, Parent, PartialDate
from pipelines.register.models import IdentityDocument as RegisterDocument
from pipelines.register.models import Person, PersonKey

AMBIGUOUS = "ambiguous"  # several candidates, nothing to tell them apart
DOCUMENT_DIFFERS = "document_differs"  # one candidate, whose documents are all different
CANDIDATE_LIMIT = 20  # more namesakes born the same day than this: ambiguous anyway
BIRTH_CERTIFICATE = "birth_certificate"


@dataclass(frozen=True)
class Match:
    """What a search found: the person (or None), the keys that matched, and, when nobody was
    chosen among candidates, why not."""

    person: Person | None = None
    keys: tuple[str, ...] = ()
    problem: str | None = None


NOBODY = Match()


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


_NOT_ALNUM = re.compile(r"[\W_]+")


def document_key(series: object, number: object) -> str | None:
    """Series and number as one comparable string: letters and digits only, upper case, Ё as Е
    — "45 07 123456", "4507-123456" and "4507123456" are one document."""
    joined = normalise_name(" ".join(t for t in (text(series), text(number)) if t))
    key = _NOT_ALNUM.sub("", joined)
    return key or None


def by_name(
    session: Session,
    name: FullName,
    birth,
    document: str | None = None,
    *,
    exclude: set[int] | None = None,
    birth_certificates: bool | None = None,
) -> Match:
    """The one person with this normalised full name and complete birth date.

    ``document`` (a :func:`document_key`) confirms a candidate: with several candidates, the
    one whose register documents include it is chosen; a single candidate with documents on
    file, none of them this one, is not taken (DOCUMENT_DIFFERS). ``birth_certificates`` limits
    the register documents compared: True only birth certificates (a child), False all but them
    (a parent's passport is not compared with her own birth certificate), None all. ``exclude``:
    person ids that cannot be the one sought.
    """
    key = name_key(text(name.last_name), text(name.first_name), text(name.middle_name), birth)
    if key is None:
        return NOBODY
    found = session.scalars(
        select(Person).where(Person.name_key == key).order_by(Person.id).limit(CANDIDATE_LIMIT)
    ).all()
    candidates = [p for p in found if p.id not in (exclude or set())]
    if not candidates:
        return NOBODY
    if document is None:
        if len(candidates) == 1:
            return Match(candidates[0], ("name", "birth_date"))
        return Match(problem=AMBIGUOUS)
    on_file = _documents(session, [p.id for p in candidates], birth_certificates)
    confirmed = [p for p in candidates if document in on_file.get(p.id, set())]
    if len(confirmed) == 1:
        return Match(confirmed[0], ("name", "birth_date", "document"))
    if len(confirmed) > 1:
        return Match(problem=AMBIGUOUS)
    if len(candidates) == 1:
        if on_file.get(candidates[0].id):
            return Match(problem=DOCUMENT_DIFFERS)
        return Match(candidates[0], ("name", "birth_date"))
    return Match(problem=AMBIGUOUS)


def _documents(
    session: Session, person_ids: list[int], birth_certificates: bool | None
) -> dict[int, set[str]]:
    query = select(RegisterDocument).where(RegisterDocument.person_id.in_(person_ids))
    if birth_certificates is True:
        query = query.where(RegisterDocument.kind == BIRTH_CERTIFICATE)
    elif birth_certificates is False:
        query = query.where(RegisterDocument.kind != BIRTH_CERTIFICATE)
    on_file: dict[int, set[str]] = {}
    for doc in session.scalars(query):
        key = document_key(doc.series, doc.number)
        if key is not None:
            on_file.setdefault(doc.person_id, set()).add(key)
    return on_file


def find_parent(session: Session, parent: Parent | Absent | None) -> Match:
    """A parent by СНИЛС when it is valid and known, else by full name and complete birth date,
    confirmed by the identity document (any kind but a birth certificate)."""
    if not isinstance(parent, Parent):
        return NOBODY
    if parent.snils and snils_is_valid(parent.snils):
        found = by_snils(session, parent.snils)
        if found is not None:
            return Match(found, ("snils",))
    document = parent.document if isinstance(parent.document, IdentityDocument) else None
    return by_name(
        session,
        parent.name,
        complete_date(parent.birth_date),
        document_key(document.series, document.number) if document else None,
        birth_certificates=False,
    )


def find_child(session: Session, name: FullName, birth, certificates, act_kind: str) -> Match:
    """An enrolled child by full name and complete birth date, confirmed by the birth
    certificate. A person enrolled from another act record is another child (twins, namesakes
    born the same day): only people no act record has claimed yet are candidates."""
    born = complete_date(birth)
    key = name_key(text(name.last_name), text(name.first_name), text(name.middle_name), born)
    if key is None:
        return NOBODY
    claimed = set(
        session.scalars(
            select(PersonKey.person_id)
            .join(Person, Person.id == PersonKey.person_id)
            .where(PersonKey.kind == act_kind, Person.name_key == key)
        )
    )
    certificate = next((k for c in certificates if (k := document_key(c.series, c.number))), None)
    return by_name(session, name, born, certificate, exclude=claimed, birth_certificates=True)
