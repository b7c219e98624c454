"""Birth registrations → register entries and electronic policies (DOMAIN.md §4.1, §6).

Each record gets exactly one outcome. The intrinsic rules come from the Great Expectations suite
(pipelines.validate.births); this module adds what only the register can tell — a version seen
before, a СНИЛС already taken — and applies the accepted records.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipelines import faults, link
from pipelines.codes import Outcome, decide
from pipelines.config import Settings
from pipelines.enrol import batched
from pipelines.enrol.register_ops import (
    Enrolment,
    Provenance,
    choose_by_share_many,
    claim_keys,
    latest_policy,
    name_key,
    remember_keys,
    reserve_enps,
    update_person,
    write_enrolments,
)
from pipelines.identifiers import snils_is_valid, snils_normalize
from pipelines.parse.zags import iter_births
from pipelines.records import BirthRecord, Parent
from pipelines.register.db import among, insert_rows
from pipelines.register.models import (
    IdentityDocument,
    Insurer,
    Person,
    PersonKey,
    Policy,
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


BATCH_RECORDS = 5000  # records decided and applied together: memory is bounded by this


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

    ``read`` is the format's reader (parse.birth_formats): ROGDINF's by default. The file is
    read once, in batches: each batch is validated by one suite run, linked against the
    register with a few set queries (:class:`link.View`), decided record by record in memory,
    and applied with bulk statements (:class:`_Batch`). All batches are in the caller's one
    transaction: a file is applied whole or not at all.
    """
    counts: Counter = Counter()
    seen: set[tuple[str, str]] = set()
    bounds = Bounds.of(settings)
    for records in batched(read(path), BATCH_RECORDS):
        codes_by_seq = validate_births(records, as_of, settings.zags_statuses, bounds=bounds)
        pending = records
        while pending:  # a batch is cut where a record follows one of its own (the same act)
            pending = _Batch(session, settings, run_id, as_of, file_id).apply(
                pending, codes_by_seq, seen, counts
            )
    return counts


def reapply_held(
    session: Session,
    settings: Settings,
    run_id: str,
    as_of: date,
    file_id: int,
    record: BirthRecord,
    waive: frozenset[str],
    decision: dict,
) -> tuple[str, list[str], Counter]:
    """Resolve mode, for the review queue: decide one held record again by the same code path
    as ingestion, with the codes an analyst accepted (``waive``) set aside, and apply it when it
    passes now — its received record updated (not inserted), its history naming ``decision``.

    Returns the outcome and codes it got now, and the effect counts (enrolled, updated, …);
    nothing is written unless the outcome is ``accepted``.
    """
    codes_by_seq = validate_births(
        [record], as_of, settings.zags_statuses, bounds=Bounds.of(settings)
    )
    counts: Counter = Counter()
    batch = _Batch(session, settings, run_id, as_of, file_id, waive=waive, decision=decision)
    batch.apply([record], codes_by_seq, set(), counts)
    (decided,) = batch.decisions
    return decided.outcome, decided.codes, counts


@dataclass
class _Decision:
    record: BirthRecord
    codes: list[str]
    outcome: str
    key: tuple | None  # the act's key as the register had it: (person_id, version)
    person: Person | None = None  # the person a later version (or a found child) updates
    fields: dict | None = None
    links: dict | None = None
    insurer: tuple[str | None, str] | None = None  # (code or None: by share, basis) for a new child
    claims_act: bool = False  # the act is new to the register: its key is claimed first
    person_id: int | None = None
    enp: str | None = None
    row_id: int | None = None


class _Batch:
    """One batch of one file, from link to apply.

    Linking reads the register once for the whole batch; deciding runs the rules of every
    record in memory; applying claims the new acts with one statement (the database lets one
    run win), draws the insurers by share and the ЕНП for the batch at once, and writes persons,
    records, history, policies, assignments, notifications, documents and act keys with one
    statement each. Later versions of acts applied before — rare — update their person one by
    one. A record that follows another of the same batch (a second version of one act) ends
    the batch: it is decided against what the first one wrote.

    In resolve mode (:func:`reapply_held`, a ``decision`` given) the batch is one held record:
    the codes in ``waive`` are set aside wherever they would be raised — a mother not told
    apart (Z017) or whose document differs (Z018) then leaves the child's insurer to the fund's
    share, a possible earlier enrolment (Z019) a new person — and the record's existing row is
    updated instead of inserted; a record that does not pass now is left as it was.
    """

    def __init__(
        self,
        session,
        settings,
        run_id,
        as_of,
        file_id,
        *,
        waive: frozenset[str] = frozenset(),
        decision: dict | None = None,
    ) -> None:
        self.session, self.settings, self.run_id = session, settings, run_id
        self.as_of, self.file_id = as_of, file_id
        self.waive, self.decision = waive, decision
        self.decisions: list[_Decision] = []

    # --- link ---------------------------------------------------------------------------

    def _load(self, records: list[BirthRecord]) -> None:
        session = self.session
        acts = sorted({r.act_number for r in records})
        keys = PersonKey.__table__
        self.keys = {
            value: (person_id, version)
            for chunk in batched(acts, 5000)
            for value, person_id, version in session.execute(
                select(keys.c.value, keys.c.person_id, keys.c.version).where(
                    keys.c.kind == KEY_KIND, among(session, keys.c.value, chunk)
                )
            )
        }
        child_snils = [s for r in records if (s := _valid_snils(r.child.snils))]
        self.view = link.View.load(
            session,
            snils=child_snils,
            name_keys=[link.child_key(r.child.name, r.child.birth_date) for r in records],
            parents=[r.mother for r in records],
            act_kind=KEY_KIND,
        )
        people = {p.id for p in self.view.by_snils_map.values()}
        people |= {p.id for group in self.view.by_key.values() for p in group}
        self.in_force = _in_force(session, sorted(people), self.as_of)
        self.active = set(session.scalars(select(Insurer.code).where(Insurer.active.is_(True))))

    # --- decide -------------------------------------------------------------------------

    def apply(self, records, codes_by_seq, seen, counts) -> list[BirthRecord]:
        """Decide and apply ``records``; returns those left for the next batch."""
        self._load(records)
        while True:
            decisions, rest, taken = self._decide(records, codes_by_seq, seen)
            self.decisions = decisions
            if self.decision is not None and any(d.outcome != Outcome.ACCEPTED for d in decisions):
                return rest  # resolve mode: what does not pass now is left as it stands
            lost = self._claim(decisions)
            if not lost:
                break
            # another run committed one of these acts meanwhile: decide again, seeing its key
            self._load(records)
        seen.update(taken)
        self._write(decisions, counts)
        return rest

    def _decide(self, records, codes_by_seq, seen):
        decisions: list[_Decision] = []
        taken: set[tuple[str, str]] = set()
        acts: set[str] = set()
        snils_taken: set[str] = set()
        for index, record in enumerate(records):
            if record.act_number in acts:
                return decisions, records[index:], taken
            acts.add(record.act_number)
            faults.point("apply.record")
            codes = [c for c in codes_by_seq.get(record.seq, ()) if c not in self.waive]
            key = self.keys.get(record.act_number)
            mark = (record.act_number, record.version)
            if mark in seen or mark in taken:
                codes.append("Z012")
            elif key is not None and version_order(record.version) <= version_order(key[1]):
                codes.append("Z005")
            taken.add(mark)
            decision = _Decision(record, codes, str(decide(codes)), key)
            if decision.outcome == Outcome.NOT_APPLICABLE and key is not None and key[0]:
                # a later version withdraws an act whose child is enrolled: never revoke silently
                decision.codes = [*codes, "Z013"]
                decision.outcome = str(Outcome.REVIEW)
            if decision.outcome == Outcome.ACCEPTED:
                self._accept(decision, snils_taken)
            decision.claims_act = key is None and decision.outcome in (
                Outcome.ACCEPTED,
                Outcome.NOT_APPLICABLE,
            )
            decisions.append(decision)
        return decisions, [], taken

    def _hold(self, decision: _Decision, code: str) -> None:
        decision.codes = [*decision.codes, code]
        decision.outcome = str(decide(decision.codes))

    def _accept(self, decision: _Decision, snils_taken: set[str]) -> None:
        record, key = decision.record, decision.key
        fields = _child_fields(record)
        existing = self.session.get(Person, key[0]) if key and key[0] else None
        links: dict[str, list[str]] = {"child": ["act"]} if existing is not None else {}
        if existing is None:  # not by the act: perhaps enrolled another way (an application)
            child = self.view.find_child(
                record.child.name, record.child.birth_date, record.certificates
            )
            if child.problem is not None and "Z019" not in self.waive:
                # what the analyst needs to decide: the people the child may already be
                key = link.child_key(record.child.name, record.child.birth_date)
                decision.links = {
                    "child": ["name", "birth_date"],
                    "child_candidates": self._candidates(key, unclaimed=True),
                }
                return self._hold(decision, "Z019")
            if child.person is not None:
                existing, links = child.person, {"child": list(child.keys)}
        snils = _valid_snils(record.child.snils)
        holder = self.view.by_snils(snils) if snils else None
        if snils and (snils in snils_taken or (holder is not None and holder is not existing)):
            return self._hold(decision, "Z011")
        if snils or existing is None:
            fields["snils"] = snils  # an update keeps the СНИЛС on file when none is sent
        if existing is None:
            # the insurer is known before the person is written: creation is one history row
            chosen = self._newborn_insurer(record)
            if isinstance(chosen, str):  # the mother cannot be told apart: nobody guesses
                decision.links = {
                    "mother": ["name", "birth_date"],
                    "mother_candidates": self._candidates(link.parent_key(record.mother)),
                }
                return self._hold(decision, chosen)
            code, basis, mother_keys = chosen
            if mother_keys:
                links["mother"] = list(mother_keys)
            decision.insurer = (code, basis)
        else:
            self.view.claim(existing.id)
        if snils:
            snils_taken.add(snils)
        decision.person, decision.fields, decision.links = existing, fields, links or None

    def _candidates(self, key: str | None, *, unclaimed: bool = False) -> list[int]:
        """The register's people with this name key, as linking compared them (ids only)."""
        found = self.view.by_key.get(key, [])[: link.CANDIDATE_LIMIT] if key else []
        return [p.id for p in found if not (unclaimed and p.id in self.view.claimed)]

    def _newborn_insurer(self, record: BirthRecord):
        """(insurer or None for one by share, basis, the keys that found the mother), or the
        code to hold the record with.

        The mother's insurer when she is in the register with a policy in force (DOMAIN.md §6);
        found without a СНИЛС, by name, birth date and document (link.find_parent). Several
        candidates (Z017), or one whose documents all differ (Z018), hold the record: the
        child's insurer is not guessed. Otherwise the fund's assignment by share — also when an
        analyst accepted the record with that code waived.
        """
        if self.settings.newborn_insurer_rule != "mother":
            return None, "fund_share", ()
        mother = self.view.find_parent(record.mother)
        for problem, code in ((link.AMBIGUOUS, "Z017"), (link.DOCUMENT_DIFFERS, "Z018")):
            if mother.problem == problem:
                return (None, "fund_share", ()) if code in self.waive else code
        found = mother.person
        if found is not None and found.insurer_code in self.active and found.id in self.in_force:
            return found.insurer_code, "mother_insurer", mother.keys
        return None, "fund_share", mother.keys if found is not None else ()

    # --- apply --------------------------------------------------------------------------

    def _claim(self, decisions: list[_Decision]) -> bool:
        """Insert the keys of the acts new to the register before anyone is enrolled from
        them; True when another run holds one of them (nothing of this batch is kept then)."""
        wanted = [d.record.act_number for d in decisions if d.claims_act]
        if not wanted:
            return False
        savepoint = self.session.begin_nested()
        got = claim_keys(self.session, KEY_KIND, wanted)
        if len(got) == len(set(wanted)):
            savepoint.commit()
            return False
        savepoint.rollback()
        return True

    def _write(self, decisions: list[_Decision], counts: Counter) -> None:
        session, settings, as_of = self.session, self.settings, self.as_of
        new = [d for d in decisions if d.outcome == Outcome.ACCEPTED and d.person is None]
        by_share = iter(choose_by_share_many(session, sum(1 for d in new if d.insurer[0] is None)))
        for d in new:
            if d.insurer[0] is None:
                d.insurer = (next(by_share), d.insurer[1])
            d.fields["insurer_code"] = d.insurer[0]
        enps = reserve_enps(session, settings.region, [d.fields["birth_date"] for d in new])
        person_ids = insert_rows(
            session,
            Person.__table__,
            [
                {
                    **d.fields,
                    "origin": "zags_births",
                    "version": 1,
                    "included_on": as_of,
                    "name_key": name_key(
                        d.fields["last_name"],
                        d.fields["first_name"],
                        d.fields["middle_name"],
                        d.fields["birth_date"],
                    ),
                }
                for d in new
            ],
        )
        for d, person_id, enp in zip(new, person_ids, enps, strict=True):
            d.person_id, d.enp = person_id, enp
        for d in decisions:
            if d.outcome == Outcome.ACCEPTED and d.person is not None:
                policy = latest_policy(session, d.person.id)
                d.person_id, d.enp = d.person.id, policy.enp if policy else None
        rows = [
            {
                "file_id": self.file_id,
                "seq": d.record.seq,
                "record_key": d.record.act_number,
                "version": d.record.version,
                "outcome": d.outcome,
                "codes": d.codes,
                "person_id": d.person_id,
                "enp": d.enp,
                # a held record keeps what linking found, for the analyst who decides it
                "links": d.links if d.outcome in (Outcome.ACCEPTED, Outcome.REVIEW) else None,
            }
            for d in decisions
        ]
        if self.decision is None:
            row_ids = insert_rows(session, ReceivedRecord.__table__, rows)
        else:  # resolve mode: the held record's own row takes its new outcome
            row_ids = [self._update_record(row) for row in rows]
        for d, row_id in zip(decisions, row_ids, strict=True):
            d.row_id = row_id
            counts[d.outcome] += 1
        self._write_new(new)
        for d in decisions:
            if d.outcome == Outcome.ACCEPTED and d.person is not None:
                self._update(d)
                counts["updated"] += 1
        counts["enrolled"] += len(new)
        counts["policies_issued"] += len(new)
        remember_keys(
            session,
            KEY_KIND,
            [
                (d.record.act_number, d.person_id, d.record.version, d.row_id)
                for d in decisions
                if d.outcome in (Outcome.ACCEPTED, Outcome.NOT_APPLICABLE)
            ],
        )

    def _update_record(self, row: dict) -> int:
        record = self.session.scalars(
            select(ReceivedRecord).where(
                ReceivedRecord.file_id == row["file_id"], ReceivedRecord.seq == row["seq"]
            )
        ).one()
        for name in ("outcome", "codes", "person_id", "enp", "links"):
            setattr(record, name, row[name])
        self.session.flush()
        return record.id

    def _write_new(self, new: list[_Decision]) -> None:
        session, as_of = self.session, self.as_of
        write_enrolments(
            session,
            self.run_id,
            as_of,
            [
                Enrolment(
                    person_id=d.person_id,
                    fields=d.fields,
                    enp=d.enp,
                    insurer_code=d.insurer[0],
                    basis=d.insurer[1],
                    event="enrolled_newborn",
                    valid_from=as_of,
                    valid_to=None,
                    reason="newborn",
                    file_id=self.file_id,
                    record_id=d.row_id,
                    decision=self.decision,
                )
                for d in new
            ],
        )
        insert_rows(
            session,
            IdentityDocument.__table__,
            [
                {
                    "person_id": d.person_id,
                    "kind": "birth_certificate",
                    "series": series,
                    "number": number,
                    "issued_on": issued,
                    "current": True,
                    "record_id": d.row_id,
                }
                for d in new
                if (cert := _current_certificate(d.record)) is not None
                for series, number, issued in [cert]
            ],
            returning=False,
        )

    def _update(self, d: _Decision) -> None:
        """A later version of an act applied before, or a child enrolled another way: the
        same person, the same ЕНП."""
        prov = Provenance(self.run_id, self.file_id, d.row_id)
        update_person(
            self.session, d.person, prov, "updated_from_zags", decision=self.decision, **d.fields
        )
        _certificate(self.session, d.person, d.record, d.row_id)


def _valid_snils(value: str | None) -> str | None:
    digits = snils_normalize(value) if value else None
    return digits if digits and snils_is_valid(digits) else None


def _in_force(session: Session, person_ids: list[int], on: date) -> set[int]:
    """Which of these people hold a policy in force on the date (register_ops.current_policy)."""
    found: set[int] = set()
    for chunk in batched(person_ids, 5000):
        found.update(
            session.scalars(
                select(Policy.person_id).where(
                    among(session, Policy.person_id, chunk),
                    Policy.status == "active",
                    or_(Policy.valid_from.is_(None), Policy.valid_from <= on),
                    or_(Policy.valid_to.is_(None), Policy.valid_to >= on),
                )
            )
        )
    return found


def _current_certificate(record: BirthRecord):
    """(series, number, issue date) of the record's current birth certificate, if any."""
    for cert in record.certificates:
        series, number = link.text(cert.series), link.text(cert.number)
        if series or number:
            return series, number, link.complete_date(cert.issue_date)
    return None


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


def _certificate(session: Session, person: Person, record: BirthRecord, record_id: int) -> None:
    """The birth certificate becomes the current document; an earlier one stops being it."""
    cert = _current_certificate(record)
    if cert is None:
        return
    series, number, issued = cert
    earlier = session.query(IdentityDocument).filter_by(
        person_id=person.id, kind="birth_certificate", current=True
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
            issued_on=issued,
            current=True,
            record_id=record_id,
        )
    )
