"""Birth registrations → register entries and electronic policies (DOMAIN.md §4.1, §6).

Each record gets exactly one outcome. The intrinsic rules come from the Great Expectations suite
(pipelines.validate.births); this module adds what only the register can tell — a version seen
before, a СНИЛС already taken — and applies the accepted records.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from pipelines import faults, link
from pipelines.codes import Outcome, decide
from pipelines.config import Settings
from pipelines.enrol.register_ops import (
    Provenance,
    assign_insurer,
    choose_by_share,
    create_person,
    current_policy,
    issue_policy,
    latest_policy,
    update_person,
)
from pipelines.identifiers import snils_is_valid, snils_normalize
from pipelines.parse.zags import iter_births
from pipelines.records import BirthRecord, Parent
from pipelines.register.db import insert_ignore
from pipelines.register.models import (
    IdentityDocument,
    Insurer,
    Person,
    PersonKey,
    ReceivedRecord,
)
from pipelines.validate.births import Bounds, validate_births

KEY_KIND = "zags_act"


_DATED = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def version_order(version: str | None) -> tuple[int, int | str]:
    """НомерВерс compares as a number when it is one (it is 1–3 characters of text). A ROGDZP
    4.0.0 record has no НомерВерс: its version is the ISO date of its latest change, and dated
    versions compare by date, after every numbered one (*assumption*: one act reaches the fund
    from one service at a time); any other text compares as text, after both."""
    if version is None:
        return (-1, -1)
    if version.isdigit():
        return (0, int(version))
    return (1, version) if _DATED.fullmatch(version) else (2, version)


def apply_births(
    session: Session,
    settings: Settings,
    run_id: str,
    as_of: date,
    file_id: int,
    path: Path,
    read: Callable[[Path], Iterator[BirthRecord]] = iter_births,
) -> Counter:
    """Decide and apply every record of one birth file; returns the outcome and effect counts.

    ``read`` is the format's reader (parse.birth_formats): ROGDINF's by default."""
    codes_by_seq = validate_births(
        read(path), as_of, settings.zags_statuses, bounds=Bounds.of(settings)
    )
    insurers = list(session.query(Insurer))
    counts: Counter = Counter()
    seen: set[tuple[str, str]] = set()
    for record in read(path):
        codes = list(codes_by_seq.get(record.seq, ()))
        key = link.source_key(session, KEY_KIND, record.act_number)
        if (record.act_number, record.version) in seen:
            codes.append("Z012")
        elif key is not None and version_order(record.version) <= version_order(key.version):
            codes.append("Z005")
        seen.add((record.act_number, record.version))
        row = ReceivedRecord(
            file_id=file_id,
            seq=record.seq,
            record_key=record.act_number,
            version=record.version,
            outcome=decide(codes),
            codes=codes,
        )
        session.add(row)
        session.flush()
        prov = Provenance(run_id, file_id, row.id)
        faults.point("apply.record")
        if row.outcome == Outcome.ACCEPTED and key is None:
            key = _claim_act(session, record, row)
        if row.outcome == Outcome.NOT_APPLICABLE and key is not None and key.person_id:
            # a later version withdraws an act whose child is enrolled: never revoke silently
            row.codes, row.outcome = [*codes, "Z013"], str(Outcome.REVIEW)
        if row.outcome == Outcome.ACCEPTED:
            _accept(session, settings, as_of, record, key, row, prov, insurers, counts)
        if row.outcome in (Outcome.ACCEPTED, Outcome.NOT_APPLICABLE):
            _remember_version(session, record, row, key)
        elif key is not None and key.person_id is None and key.record_id is None:
            session.delete(key)  # claimed above for a record that did not go through after all
            session.flush()
        counts[str(row.outcome)] += 1
    return counts


def _claim_act(session: Session, record: BirthRecord, row: ReceivedRecord) -> PersonKey | None:
    """Insert the act's key before anyone is enrolled from it: the database lets one run win.

    A run that loses — another committed the act meanwhile — sees the winner's key once that
    commits, and takes the path of an act applied before (a later version updates the same
    person; the same or an earlier one is a duplicate, Z005). Returns the key to go on with:
    this record's fresh claim (no person yet), or the winner's.
    """
    values = {"kind": KEY_KIND, "value": record.act_number, "person_id": None, "version": None}
    if insert_ignore(session, PersonKey.__table__, values):
        return session.get(PersonKey, (KEY_KIND, record.act_number))
    key = session.get(PersonKey, (KEY_KIND, record.act_number), populate_existing=True)
    if version_order(record.version) <= version_order(key.version):
        row.codes = [*row.codes, "Z005"]
        row.outcome = str(decide(row.codes))
    return key


def _remember_version(
    session: Session, record: BirthRecord, row: ReceivedRecord, key: PersonKey | None
) -> None:
    if key is None:
        insert_ignore(
            session,
            PersonKey.__table__,
            {
                "kind": KEY_KIND,
                "value": record.act_number,
                "person_id": row.person_id,
                "version": record.version,
                "record_id": row.id,
            },
        )
    else:
        key.version, key.record_id = record.version, row.id
        key.person_id = key.person_id or row.person_id
    session.flush()


def _child_fields(record: BirthRecord) -> dict:
    child = record.child
    sex = child.sex if isinstance(child.sex, int) else None
    return {
        "last_name": link.text(child.name.last_name),
        "first_name": link.text(child.name.first_name),
        "middle_name": link.text(child.name.middle_name),
        "birth_date": link.complete_date(child.birth_date),
        "sex": sex,
        "birth_place": link.text(child.birth_place),
        "residence": link.text(record.mother.residence)
        if isinstance(record.mother, Parent)
        else None,
        "citizenship": "643" if record.register_section == 1 else None,
    }


def _accept(
    session: Session,
    settings: Settings,
    as_of: date,
    record: BirthRecord,
    key: PersonKey | None,
    row: ReceivedRecord,
    prov: Provenance,
    insurers: list[Insurer],
    counts: Counter,
) -> None:
    fields = _child_fields(record)
    snils = snils_normalize(record.child.snils) if record.child.snils else None
    existing = session.get(Person, key.person_id) if key and key.person_id else None
    links: dict[str, list[str]] = {"child": ["act"]} if existing is not None else {}
    if existing is None:  # not by the act: perhaps enrolled another way (an application)
        child = link.find_child(
            session, record.child.name, record.child.birth_date, record.certificates, KEY_KIND
        )
        if child.problem is not None:
            _hold(row, "Z019")
            return
        if child.person is not None:
            existing, links = child.person, {"child": list(child.keys)}
    holder = link.by_snils(session, snils) if snils and snils_is_valid(snils) else None
    if holder is not None and holder is not existing:
        _hold(row, "Z011")
        return
    if snils and snils_is_valid(snils):
        fields["snils"] = snils

    if existing is not None:  # a later version of an act already applied: same person, same ЕНП
        update_person(session, existing, prov, "updated_from_zags", **fields)
        _certificate(session, existing, record, row)
        policy = latest_policy(session, existing.id)
        row.person_id, row.enp, row.links = existing.id, policy.enp if policy else None, links
        counts["updated"] += 1
        return

    # the insurer is known before the person is written, so creation is one history row
    chosen = _newborn_insurer(session, settings, as_of, record, insurers)
    if isinstance(chosen, str):  # the mother cannot be told apart: nobody guesses
        _hold(row, chosen)
        return
    insurer_code, basis, mother_keys = chosen
    if mother_keys:
        links["mother"] = list(mother_keys)
    fields["insurer_code"] = insurer_code
    person = create_person(session, prov, origin="zags_births", included_on=as_of, **fields)
    _certificate(session, person, record, row, new=True)
    policy = issue_policy(
        session,
        person,
        prov,
        region=settings.region,
        valid_from=as_of,
        valid_to=None,
        reason="newborn",
    )
    assign_insurer(
        session,
        person,
        prov,
        insurer_code=insurer_code,
        basis=basis,
        on=as_of,
        enp=policy.enp,
        event="enrolled_newborn",
    )
    row.person_id, row.enp, row.links = person.id, policy.enp, links or None
    counts["enrolled"] += 1
    counts["policies_issued"] += 1


def _hold(row: ReceivedRecord, code: str) -> None:
    row.codes = [*row.codes, code]
    row.outcome = str(decide(row.codes))


def _newborn_insurer(
    session: Session, settings: Settings, as_of: date, record: BirthRecord, insurers
) -> tuple[str, str, tuple[str, ...]] | str:
    """(insurer, basis, the keys that found the mother), or the code to hold the record with.

    The mother's insurer when she is in the register with a policy in force (DOMAIN.md §6);
    found without a СНИЛС, by name, birth date and document (link.find_parent). Several
    candidates (Z017), or one whose documents all differ (Z018), hold the record: the child's
    insurer is not guessed. Otherwise the fund's assignment by share.
    """
    if settings.newborn_insurer_rule == "mother":
        mother = link.find_parent(session, record.mother)
        if mother.problem == link.AMBIGUOUS:
            return "Z017"
        if mother.problem == link.DOCUMENT_DIFFERS:
            return "Z018"
        found = mother.person
        active = {i.code for i in insurers if i.active}
        if (
            found is not None
            and found.insurer_code in active
            and current_policy(session, found.id, as_of) is not None
        ):
            return found.insurer_code, "mother_insurer", mother.keys
        if found is not None:
            return choose_by_share(session), "fund_share", mother.keys
    return choose_by_share(session), "fund_share", ()


def _certificate(
    session: Session, person: Person, record: BirthRecord, row: ReceivedRecord, new: bool = False
) -> None:
    """The birth certificate becomes the current document; an earlier one stops being it."""
    for cert in record.certificates:
        series, number = link.text(cert.series), link.text(cert.number)
        if not (series or number):
            continue
        earlier = (
            []
            if new
            else session.query(IdentityDocument).filter_by(
                person_id=person.id, kind="birth_certificate", current=True
            )
        )
        for doc in earlier:
            if (doc.series, doc.number) == (series, number):
                return
            doc.current = False
        session.add(
            IdentityDocument(
                person_id=person.id,
                kind="birth_certificate",
                series=series,
                number=number,
                issued_on=link.complete_date(cert.issue_date),
                current=True,
                record_id=row.id,
            )
        )
        return
