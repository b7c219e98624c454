"""Linking without a СНИЛС: full name and birth date, confirmed by the document, never guessed."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import link
from pipelines.enrol.register_ops import Provenance, create_person, name_key, normalise_name
from pipelines.records import ABSENT, FullName, IdentityDocument, Parent, PartialDate
from pipelines.register import db
from pipelines.register.models import IdentityDocument as RegisterDocument
from pipelines.register.models import PersonKey

BORN = date(1994, 5, 17)


def _person(session, last, first, middle, born=BORN, *, snils=None, documents=()):
    person = create_person(
        session,
        Provenance(None),
        origin="register_load",
        included_on=None,
        snils=snils,
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=born,
        sex=2,
    )
    for kind, series, number in documents:
        session.add(
            RegisterDocument(
                person_id=person.id, kind=kind, series=series, number=number, current=True
            )
        )
    session.flush()
    return person


def _mother(last="Соловьёва", first="Анна", middle="Игоревна", born=BORN, document=None):
    return Parent(
        name=FullName(last, first, middle),
        birth_date=PartialDate.of(born),
        document=document,
    )


def _passport(number: str) -> IdentityDocument:
    return IdentityDocument(kind_code="21", series=None, number=number)


@pytest.mark.parametrize(
    ("written", "other"),
    [
        ("Соловьёва", "СОЛОВЬЕВА"),
        ("соловьева", "Соловьева"),
        ("Петрова-Водкина", "Петрова Водкина"),
        ("Петрова - Водкина", "петрова–водкина"),
        ("  Анна   Мария ", "Анна Мария"),
        ("Aнна", "Анна"),  # a Latin A typed into a Cyrillic name
    ],
)
def test_spelling_that_does_not_change_the_name_does_not_break_a_match(written, other):
    assert normalise_name(written) == normalise_name(other)
    assert name_key(written, "Анна", None, BORN) == name_key(other, "Анна", None, BORN)


def test_different_names_and_dates_stay_different():
    assert normalise_name("Петрова") != normalise_name("Петров")
    assert name_key("Иванова", "Анна", None, BORN) != name_key(
        "Иванова", "Анна", None, date(1994, 5, 18)
    )
    assert name_key("Иванова", "Анна", "Ивановна", BORN) != name_key("Иванова", "Анна", None, BORN)
    # a Latin word stays Latin: no Cyrillic letter in it to say it was a slip
    assert normalise_name("MARIA") == "MARIA"


def test_one_candidate_by_name_and_birth_date(settings):
    with db.session_scope(settings) as session:
        person = _person(session, "Соловьева", "Анна", "Игоревна")
        found = link.find_parent(session, _mother())
        assert found.person is person and found.keys == ("name", "birth_date")
        assert found.problem is None


def test_the_document_confirms_and_tells_namesakes_apart(settings):
    with db.session_scope(settings) as session:
        first = _person(
            session, "Соловьева", "Анна", "Игоревна", documents=[("21", "45 07", "123456")]
        )
        second = _person(
            session, "Соловьева", "Анна", "Игоревна", documents=[("21", "46 01", "654321")]
        )
        found = link.find_parent(session, _mother(document=_passport("4601 654321")))
        assert found.person is second and found.keys == ("name", "birth_date", "document")
        found = link.find_parent(session, _mother(document=_passport("45-07-123456")))
        assert found.person is first


def test_two_candidates_are_never_guessed_between(settings):
    with db.session_scope(settings) as session:
        _person(session, "Соловьева", "Анна", "Игоревна")
        _person(session, "СОЛОВЬЁВА", "анна", "игоревна")
        assert link.find_parent(session, _mother()) == link.Match(problem=link.AMBIGUOUS)
        # a document neither of them has on file does not single one out either
        found = link.find_parent(session, _mother(document=_passport("4507 000000")))
        assert found == link.Match(problem=link.AMBIGUOUS)


def test_one_candidate_whose_documents_all_differ_is_not_taken(settings):
    with db.session_scope(settings) as session:
        _person(session, "Соловьева", "Анна", "Игоревна", documents=[("21", "4507", "123456")])
        found = link.find_parent(session, _mother(document=_passport("4599 999999")))
        assert found == link.Match(problem=link.DOCUMENT_DIFFERS)


def test_a_mothers_own_birth_certificate_is_not_compared_with_her_passport(settings):
    with db.session_scope(settings) as session:
        person = _person(
            session,
            "Соловьева",
            "Анна",
            "Игоревна",
            documents=[("birth_certificate", "I-МЮ", "123456")],
        )
        found = link.find_parent(session, _mother(document=_passport("4599 999999")))
        assert found.person is person and found.keys == ("name", "birth_date")


def test_too_little_to_link_on_finds_nobody(settings):
    with db.session_scope(settings) as session:
        _person(session, "Соловьева", "Анна", "Игоревна")
        partial = Parent(
            name=FullName("Соловьева", "Анна", "Игоревна"), birth_date=PartialDate(1994, 5, ABSENT)
        )
        assert link.find_parent(session, partial) == link.NOBODY
        no_first = _mother(first=ABSENT)
        assert link.find_parent(session, no_first) == link.NOBODY
        assert link.find_parent(session, ABSENT) == link.NOBODY


def test_a_valid_snils_that_is_known_links_first(settings):
    with db.session_scope(settings) as session:
        person = _person(session, "Другая", "Мария", None, snils="11223344595")
        mother = Parent(snils="11223344595", name=FullName("Соловьева", "Анна", None))
        found = link.find_parent(session, mother)
        assert found.person is person and found.keys == ("snils",)


def test_a_child_enrolled_from_another_act_is_another_child(settings):
    with db.session_scope(settings) as session:
        enrolled = _person(session, "Соловьев", "Иван", "Петрович", date(2026, 2, 1))
        session.add(PersonKey(kind="zags_act", value="A" * 21, person_id=enrolled.id))
        session.flush()
        name = FullName("Соловьёв", "Иван", "Петрович")
        born = PartialDate(2026, 2, 1)
        assert link.find_child(session, name, born, (), "zags_act") == link.NOBODY
        # one enrolled another way (an application), not by an act: the same child
        applied = _person(session, "Соловьев", "Иван", "Петрович", date(2026, 2, 1))
        found = link.find_child(session, name, born, (), "zags_act")
        assert found.person is applied and found.keys == ("name", "birth_date")
