"""The demo's year of scheme history: applications arriving, awards ending, follow-ons.

Why: the Cyberport seed (``cyberport.toml``) is the scheme as of mid-2025 (ten awards, a few
applications), so a demo centre a year later has awards that only run dry and nothing that
arrives: a backtest (``computeport capacity backtest --history-days 365``) would have nothing to
learn the flows from. This module adds the year before the demo's today, drawn from rates the
public facts support and labelled as assumptions, and moves each application through the same
domain services as the seed (:meth:`computeport.seed.cyberport.Panel.project`): submission,
review, the committee's decision, the award and its ledger postings.

Rates (every one an ASSUMPTION, stated here and in the scheme's notes):

* first applications: :data:`FIRST_APPLICATIONS_PER_MONTH` a month (Poisson). Fact: "20+
  applications" in the scheme's first ~9 months; ~120 organisations join Cyberport a year, so
  about one in four of them applies in its first year;
* category mix :data:`CATEGORY_MIX` (fact: universities, R&D centres, enterprises and
  government departments apply) and approval rate per category :data:`APPROVAL` (fact: 10 of
  20+ approved by mid-2025, i.e. about half);
* subsidy cap: log-normal, median :data:`CAP_MEDIAN_HKD`, σ :data:`CAP_SIGMA` (fact: ten awards
  over HK$300M, so ~HK$30M each), durations 6, 12, 18 or 24 months;
* follow-ons: an award that ends comes back as a follow-on application of its organisation
  with :data:`FOLLOW_ON_SHARE`, within a month of its end;
* the decision takes the seed's path (about ten weeks from the first draft) and an award
  starts on the first of the month after its decision.

Deterministic: the history is drawn from :data:`SEED` and the demo's month (the same month
gives the same history). Idempotent: a database that holds it already gets nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.identity import service as identity
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.progress.schedule import add_months
from computeport.seed.cyberport import DATA, SeedResult, seeded_panel
from computeport.seed.names import PLACES
from computeport.seed.spec import ProjectEntry, utc_midnight

__all__ = ["GENERATED", "HistoryEvent", "draw_history", "seed_demo_history"]

S = ApplicationStatus
Cat = OrganisationCategory

SEED = 2025
HISTORY_DAYS = 365
LEAD_DAYS = 365
"""Applications are drawn from a year before the history (never before the scheme's launch),
so awards are running when it starts (the seed's own awards alone run dry within months at a
busy centre) and awards made then end during it (the renewals have evidence)."""
FIRST_APPLICATIONS_PER_MONTH = 2.5
CATEGORY_MIX = {Cat.ENTERPRISE: 0.5, Cat.UNIVERSITY: 0.2, Cat.RD_CENTRE: 0.15, Cat.GOVERNMENT: 0.15}
APPROVAL = {Cat.ENTERPRISE: 0.5, Cat.UNIVERSITY: 0.7, Cat.RD_CENTRE: 0.7, Cat.GOVERNMENT: 0.8}
CAP_MEDIAN_HKD = 28_000_000
CAP_SIGMA = 0.45
MONTHS = (6, 12, 18, 24)
FOLLOW_ON_SHARE = 0.5
DECISION_DAYS = 70
"""Draft to decision along the seed's path (submitted +7 days, review, recommendation, the
committee three weeks later)."""
GENERATED = "(generated history)"
"""Every generated application's title ends with this: the mark of a seeded history."""
SECTORS = {
    Cat.ENTERPRISE: "fintech",
    Cat.UNIVERSITY: "research",
    Cat.RD_CENTRE: "materials",
    Cat.GOVERNMENT: "public_sector",
}


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One drawn application: who, when, what it asks, and where it ends up."""

    org: str
    category: Cat
    created: dt.date
    status: ApplicationStatus
    cap_hkd: int
    months: int
    follow_on: bool = False


def _status(created: dt.date, today: dt.date, approved: bool) -> ApplicationStatus | None:
    """Where an application created on ``created`` stands at ``today`` (the seed's path);
    ``None``: still a draft (nothing to show)."""
    age = (today - created).days
    if age >= DECISION_DAYS:
        return S.APPROVED if approved else S.REJECTED
    if age >= 49:
        return S.RECOMMENDED if approved else S.NOT_RECOMMENDED
    if age >= 21:
        return S.UNDER_REVIEW
    if age >= 7:
        return S.SUBMITTED
    return None


def _award_end(created: dt.date, months: int) -> dt.date:
    decided = created + dt.timedelta(days=DECISION_DAYS)
    start = add_months(utc_midnight(decided.replace(day=1)), 1)
    return add_months(start, months).date()


def draw_history(today: dt.date, seeded_ends: list[tuple[str, Cat, dt.date]]) -> list[HistoryEvent]:
    """The applications of the year before ``today`` (and :data:`LEAD_DAYS` before it), each
    where it stands at ``today`` (drafts younger than a week are not shown).

    ``seeded_ends``: the seed's awards (organisation, category, end) that may come back as
    follow-ons. Pure: the same month and awards draw the same applications; a later ``today``
    shows more of them, further along.
    """
    month = today.replace(day=1)
    rng = np.random.default_rng([SEED, month.year, month.month])
    # Whole months from the month's first, every month drawn in full: a later day of the
    # same month draws the same applications (and shows more of them, further along).
    start = (utc_midnight(month) - dt.timedelta(days=HISTORY_DAYS + LEAD_DAYS)).date()
    start = max(start.replace(day=1), DATA.scheme.launch)
    end_of_month = add_months(utc_midnight(month), 1).date()
    cats = list(CATEGORY_MIX)
    weights = np.array([CATEGORY_MIX[c] for c in cats])
    out: list[HistoryEvent] = []
    ends = list(seeded_ends)
    day = start
    k = 0
    while day < end_of_month:
        nxt = add_months(utc_midnight(day), 1).date()
        for _ in range(int(rng.poisson(FIRST_APPLICATIONS_PER_MONTH))):
            created = day + dt.timedelta(days=int(rng.integers(0, max(1, (nxt - day).days))))
            cat = cats[int(rng.choice(len(cats), p=weights / weights.sum()))]
            k += 1
            org = f"{PLACES[k % len(PLACES)]} AI Lab {k:03d} (assumed entrant)"
            ends += _add(out, rng, org, cat, created, today, follow_on=False)
        day = nxt
    # Follow-ons, in order of the awards' ends (a follow-on's own award may end in turn).
    ends.sort(key=lambda e: e[2])
    i = 0
    while i < len(ends):
        org, cat, end = ends[i]
        i += 1
        comes_back = rng.random() < FOLLOW_ON_SHARE
        created = end + dt.timedelta(days=int(rng.integers(0, 30)))
        if not comes_back or created >= end_of_month:
            continue
        more = _add(out, rng, org, cat, created, today, follow_on=True)
        ends += more
        ends[i:] = sorted(ends[i:], key=lambda e: e[2])
    return sorted(out, key=lambda e: e.created)


def _add(
    out: list[HistoryEvent],
    rng: np.random.Generator,
    org: str,
    cat: Cat,
    created: dt.date,
    today: dt.date,
    *,
    follow_on: bool,
) -> list[tuple[str, Cat, dt.date]]:
    approved = bool(rng.random() < APPROVAL[cat])
    cap = float(rng.lognormal(np.log(CAP_MEDIAN_HKD), CAP_SIGMA))
    cap_hkd = max(3, min(90, round(cap / 1_000_000))) * 1_000_000
    months = int(rng.choice(MONTHS))
    status = _status(created, today, approved)
    if status is None:
        return []
    out.append(
        HistoryEvent(
            org, cat, created, status, cap_hkd if status is S.APPROVED else 0, months, follow_on
        )
    )
    return [(org, cat, _award_end(created, months))] if status is S.APPROVED else []


def seed_demo_history(session: Session, today: dt.date) -> int:
    """Add the drawn year before ``today`` to a seeded database; rows made (0 if present)."""
    marked = session.scalar(
        select(Application.id).where(Application.title.like(f"%{GENERATED}")).limit(1)
    )
    if marked is not None:
        return 0
    panel = seeded_panel(session)
    orgs = {o.name: o for o in session.scalars(select(Organisation))}
    seeded = [
        (orgs_by_id.name, orgs_by_id.category, a.ends_at.date())
        for a in session.scalars(select(Award))
        if (orgs_by_id := session.get(Organisation, a.organisation_id)) is not None
    ]
    result = SeedResult()
    events = draw_history(today, seeded)
    for n, event in enumerate(events, start=100):
        org = orgs.get(event.org)
        if org is None:
            org = identity.create_organisation(
                session,
                name=event.org,
                category=event.category,
                sector=SECTORS[event.category],
                at=utc_midnight(event.created),
                is_assumption=True,
            )
            orgs[event.org] = org
        kind = "follow-on" if event.follow_on else "project"
        spec = ProjectEntry(
            title=f"{event.org}: {kind} {n} {GENERATED}",
            category=event.category,
            sector=org.sector,
            status=event.status,
            created=event.created,
            cap_hkd=event.cap_hkd,
            months=event.months,
            reports_filed=False,
            reason="Not recommended by the reviewers (generated history)."
            if event.status in (S.REJECTED, S.NOT_RECOMMENDED)
            else "",
        )
        panel.project(session, result, org, n, spec)
    session.flush()
    return sum(result.created.values())
