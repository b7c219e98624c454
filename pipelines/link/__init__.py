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

from pipelines.enrol import batched
from pipelines.enrol.register_ops import name_key, normalise_name
from pipelines.identifiers import snils_is_valid, snils_normalize
from pipelines.records import Absent, FullName, IdentityDocument, Parent, PartialDate
from pipelines.register.db import among
from pipelines.register.models import IdentityDocument as RegisterDocument
from pipelines.register.models import Person, PersonKey

AMBIGUOUS = "ambiguous"  # several candidates, nothing to tell them apart
DOCUMENT_DIFFERS = "document_differs"  # one candidate, whose documents are all different
CANDIDATE_LIMIT = 20  # more namesakes born the same day than this: ambiguous anyway
BIRTH_CERTIFICATE = "birth_certificate"
IN_LIMIT = 5000  # values per IN (…) list of a set query


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
    view = View.load(session, name_keys=[key] if key else [])
    return view.by_name(key, document, exclude=exclude, birth_certificates=birth_certificates)


def find_parent(session: Session, parent: Parent | Absent | None) -> Match:
    """A parent by СНИЛС when it is valid and known, else by full name and complete birth date,
    confirmed by the identity document (any kind but a birth certificate)."""
    return View.load(session, parents=[parent]).find_parent(parent)


def find_child(session: Session, name: FullName, birth, certificates, act_kind: str) -> Match:
    """An enrolled child by full name and complete birth date, confirmed by the birth
    certificate. A person enrolled from another act record is another child (twins, namesakes
    born the same day): only people no act record has claimed yet are candidates."""
    key = child_key(name, birth)
    view = View.load(session, name_keys=[key] if key else [], act_kind=act_kind)
    return view.find_child(name, birth, certificates)


def child_key(name: FullName, birth) -> str | None:
    born = complete_date(birth)
    return name_key(text(name.last_name), text(name.first_name), text(name.middle_name), born)


def parent_key(parent: Parent) -> str | None:
    name, born = parent.name, complete_date(parent.birth_date)
    return name_key(text(name.last_name), text(name.first_name), text(name.middle_name), born)


class View:
    """What linking needs of the register for a batch of records, read with a few set queries
    (persons by СНИЛС and by name key, their documents, which of them an act has claimed), and
    answered in memory: the same answers :func:`find_parent`, :func:`find_child` and
    :func:`by_snils` give one record at a time, without a round trip per record.

    A batch that claims people as it goes (a child found for an act) says so with
    :meth:`claim`, so a later record of the batch no longer sees them as candidates.
    """

    def __init__(self) -> None:
        self.by_snils_map: dict[str, Person] = {}
        self.by_key: dict[str, list[Person]] = {}
        self.documents: dict[int, list[tuple[str, str]]] = {}  # person → (kind, document key)
        self.claimed: set[int] = set()

    @classmethod
    def load(
        cls,
        session: Session,
        *,
        snils: list[str] = (),
        name_keys: list[str] = (),
        parents: list = (),
        act_kind: str | None = None,
    ) -> View:
        view = cls()
        snils = {d for s in snils if (d := snils_normalize(s))}
        name_keys = {k for k in name_keys if k}
        for parent in parents:
            if isinstance(parent, Parent):
                if parent.snils and snils_is_valid(parent.snils):
                    snils.add(snils_normalize(parent.snils))
                if key := parent_key(parent):
                    name_keys.add(key)
        people: dict[int, Person] = {}
        for chunk in batched(sorted(snils), IN_LIMIT):
            known = select(Person).where(among(session, Person.snils, chunk))
            for person in session.scalars(known):
                view.by_snils_map[person.snils] = person
                people[person.id] = person
        for chunk in batched(sorted(name_keys), IN_LIMIT):
            for person in session.scalars(
                select(Person).where(among(session, Person.name_key, chunk)).order_by(Person.id)
            ):
                view.by_key.setdefault(person.name_key, []).append(person)
                people[person.id] = person
        named = sorted({p.id for group in view.by_key.values() for p in group})
        for chunk in batched(named, IN_LIMIT):
            for doc in session.scalars(
                select(RegisterDocument).where(among(session, RegisterDocument.person_id, chunk))
            ):
                if (key := document_key(doc.series, doc.number)) is not None:
                    view.documents.setdefault(doc.person_id, []).append((doc.kind, key))
            if act_kind is not None:
                view.claimed.update(
                    session.scalars(
                        select(PersonKey.person_id).where(
                            PersonKey.kind == act_kind, among(session, PersonKey.person_id, chunk)
                        )
                    )
                )
        return view

    def claim(self, person_id: int) -> None:
        self.claimed.add(person_id)

    def by_snils(self, snils: str | None) -> Person | None:
        digits = snils_normalize(snils) if snils else None
        return self.by_snils_map.get(digits) if digits else None

    def by_name(
        self,
        key: str | None,
        document: str | None = None,
        *,
        exclude: set[int] | None = None,
        birth_certificates: bool | None = None,
    ) -> Match:
        if key is None:
            return NOBODY
        found = self.by_key.get(key, [])[:CANDIDATE_LIMIT]
        candidates = [p for p in found if p.id not in (exclude or set())]
        if not candidates:
            return NOBODY
        if document is None:
            if len(candidates) == 1:
                return Match(candidates[0], ("name", "birth_date"))
            return Match(problem=AMBIGUOUS)
        on_file = {p.id: self._documents(p.id, birth_certificates) for p in candidates}
        confirmed = [p for p in candidates if document in on_file[p.id]]
        if len(confirmed) == 1:
            return Match(confirmed[0], ("name", "birth_date", "document"))
        if len(confirmed) > 1:
            return Match(problem=AMBIGUOUS)
        if len(candidates) == 1:
            if on_file[candidates[0].id]:
                return Match(problem=DOCUMENT_DIFFERS)
            return Match(candidates[0], ("name", "birth_date"))
        return Match(problem=AMBIGUOUS)

    def _documents(self, person_id: int, birth_certificates: bool | None) -> set[str]:
        return {
            key
            for kind, key in self.documents.get(person_id, ())
            if birth_certificates is None or (kind == BIRTH_CERTIFICATE) == birth_certificates
        }

    def find_parent(self, parent: Parent | Absent | None) -> Match:
        if not isinstance(parent, Parent):
            return NOBODY
        if parent.snils and snils_is_valid(parent.snils):
            found = self.by_snils(parent.snils)
            if found is not None:
                return Match(found, ("snils",))
        document = parent.document if isinstance(parent.document, IdentityDocument) else None
        return self.by_name(
            parent_key(parent),
            document_key(document.series, document.number) if document else None,
            birth_certificates=False,
        )

    def find_child(self, name: FullName, birth, certificates) -> Match:
        key = child_key(name, birth)
        if key is None:
            return NOBODY
        claimed = {p.id for p in self.by_key.get(key, []) if p.id in self.claimed}
        certificate = next(
            (k for c in certificates if (k := document_key(c.series, c.number))), None
        )
        return self.by_name(key, certificate, exclude=claimed, birth_certificates=True)
