"""Renewal of foreign workers' policies (DOMAIN.md §3, *assumption*: by default a policy runs to
31 December of the year of issue and is renewed while contributions continue; the term is
ERZL_FOREIGN_POLICY_TERM).

Every active foreign-worker policy whose term has ended is either renewed for the next term —
when the ledger shows a counted month (ВП category, non-zero payment) within
ERZL_RENEWAL_LOOKBACK_MONTHS before the end — or marked lapsed. Either way the insurer is told.
A worker held for review is left to the analyst. Nothing is deleted; a lapsed worker whose
contributions resume after the lapse gets the policy back, under the same ЕНП, at the next
evaluation of eligibility.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.config import Settings
from pipelines.enrol.contributions import calendar_month
from pipelines.enrol.register_ops import Provenance, notify, update_person
from pipelines.register.models import ContributionMonth, ForeignEligibility, Person, Policy

REASONS = ("foreign_worker",)


def lookback_months() -> int:
    return int(os.environ.get("ERZL_RENEWAL_LOOKBACK_MONTHS", "12"))


def _months_back(end: date, count: int) -> set[str]:
    year, month = end.year, end.month
    months = set()
    for _ in range(count):
        months.add(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return months


def renew_foreign_policies(
    session: Session, settings: Settings, run_id: str, as_of: date, *, dry_run: bool = False
) -> Counter:
    """Renew or lapse every active foreign-worker policy whose term ended before ``as_of``.

    A term is renewed for the next one (ERZL_FOREIGN_POLICY_TERM) when a counted month falls
    within the lookback before its end; a renewal run that was missed catches up term by term.
    """
    lookback = lookback_months()
    counts: Counter = Counter()
    policies = session.scalars(
        select(Policy).where(
            Policy.status == "active", Policy.valid_to < as_of, Policy.reason.in_(REASONS)
        )
    ).all()
    for policy in policies:
        person = session.get(Person, policy.person_id)
        entry = session.get(ForeignEligibility, person.snils) if person.snils else None
        if entry is not None and entry.status == "review":
            counts["held_for_review"] += 1  # an analyst decides; neither renewed nor lapsed
            continue
        rows = session.execute(
            select(ContributionMonth.year, ContributionMonth.quarter, ContributionMonth.month)
            .where(
                ContributionMonth.snils == person.snils,
                ContributionMonth.counts_for_foreign.is_(True),
            )
            .distinct()
        ).all()
        paid = {calendar_month(*row) for row in rows}
        end, renew = policy.valid_to, True
        while end < as_of:
            if not paid & _months_back(end, lookback):
                renew = False
                break
            end = settings.foreign_policy_end(end + timedelta(days=1))
        counts["renewed" if renew else "lapsed"] += 1
        if dry_run:
            continue
        prov = Provenance(run_id)
        policy.valid_to = end  # the last term that contributions covered
        if renew:
            event = "policy_renewed"
        else:
            policy.status = "lapsed"
            event = "policy_lapsed"
            if entry is not None:
                entry.status = "lapsed"
        update_person(session, person, prov, event, working=renew or None)
        if person.insurer_code:
            notify(
                session,
                person,
                prov,
                insurer_code=person.insurer_code,
                enp=policy.enp,
                event=event,
                basis="previous_insurer",
            )
    session.flush()
    return counts
