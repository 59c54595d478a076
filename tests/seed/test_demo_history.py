"""The demo's drawn year of scheme history: deterministic, consistent, at its stated rates,
and seeded once through the domain services."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import OrganisationCategory
from computeport.seed.cyberport import seed_cyberport
from computeport.seed.demo_history import (
    DECISION_DAYS,
    FIRST_APPLICATIONS_PER_MONTH,
    GENERATED,
    HISTORY_DAYS,
    LEAD_DAYS,
    draw_history,
    seed_demo_history,
)

S = ApplicationStatus
TODAY = dt.date(2026, 12, 5)
ENDED = [("Seeded Lab", OrganisationCategory.UNIVERSITY, dt.date(2026, 6, 1))]


def test_the_same_month_draws_the_same_applications_and_another_month_others() -> None:
    first = draw_history(TODAY, ENDED)
    assert first == draw_history(TODAY, ENDED)
    later = draw_history(TODAY.replace(day=20), ENDED)
    seen = {(e.org, e.created) for e in first if not e.follow_on}
    assert seen < {(e.org, e.created) for e in later if not e.follow_on}  # further along
    assert first != draw_history(dt.date(2027, 1, 5), ENDED)


def test_every_application_stands_where_its_age_puts_it() -> None:
    for event in draw_history(TODAY, ENDED):
        age = (TODAY - event.created).days
        assert 7 <= age <= HISTORY_DAYS + LEAD_DAYS + 62
        decided = event.status in (S.APPROVED, S.REJECTED)
        assert decided == (age >= DECISION_DAYS)
        assert (event.cap_hkd > 0) == (event.status is S.APPROVED)


def test_follow_ons_come_from_organisations_whose_award_ended_before_them() -> None:
    events = draw_history(TODAY, ENDED)
    follow_ons = [e for e in events if e.follow_on]
    assert follow_ons
    firsts = {e.org: e.created for e in events if not e.follow_on}
    for e in follow_ons:
        assert e.org == "Seeded Lab" or firsts[e.org] < e.created


def test_first_applications_arrive_at_the_stated_rate() -> None:
    """Twelve months' draws, each from the first of the month two years back to a week before
    its day (younger drafts are not shown): ~700 arrivals, so 10% is ~2.7 sd."""
    days = [dt.date(2027, m, 28) for m in range(1, 13)]
    arrivals = sum(sum(not e.follow_on for e in draw_history(d, [])) for d in days)
    months = 0.0
    for d in days:
        start = (d.replace(day=1) - dt.timedelta(days=HISTORY_DAYS + LEAD_DAYS)).replace(day=1)
        months += (d - dt.timedelta(days=7) - start).days / (365.25 / 12)
    expected = FIRST_APPLICATIONS_PER_MONTH * months
    assert abs(arrivals - expected) <= 0.1 * expected


@pytest.mark.slow
def test_the_history_is_seeded_once_through_the_domain_services(session: Session) -> None:
    seed_cyberport(session)
    before = session.scalar(select(func.count()).select_from(Award)) or 0
    made = seed_demo_history(session, TODAY)
    assert made > 0
    generated = list(
        session.scalars(select(Application).where(Application.title.like(f"%{GENERATED}")))
    )
    approved = [a for a in generated if a.status is S.APPROVED]
    assert approved
    awards = session.scalar(select(func.count()).select_from(Award)) or 0
    assert awards == before + len(approved)
    assert all(a.decided_at is not None for a in approved)
    assert seed_demo_history(session, TODAY) == 0  # a second run makes nothing
    assert seed_demo_history(session, dt.date(2027, 3, 1)) == 0  # nor a later day
