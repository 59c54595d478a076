"""A centre's history from the database: monthly usage by award, awards, applications.

The only backtest module that knows SQLAlchemy (like ``awards_source`` for plans): usage comes
from the rating rollup (``usage_rollup``, GPU-seconds by month and award), awards from their
lines, applications with their organisation's category and their submission and decision
dates. Capacity per month is the scenario's supply (the centre's own plan of what it runs).

Months: the first month with usage may be cut short (a history that starts mid-month) and the
current month is not over, so both are left out; the rest are the history's complete months.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from computeport.capacity.calendar import Month
from computeport.capacity.demand import reference_factor
from computeport.capacity.history import HistApplication, HistAward, SchemeHistory
from computeport.capacity.scenario import Scenario
from computeport.capacity.supply import supply_plan
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.progress import AwardTranche
from computeport.models.rollup import UsageRollup

__all__ = ["history_from_db"]

S = ApplicationStatus


def _month(label: str) -> dt.date:
    return dt.date(int(label[:4]), int(label[5:7]), 1)


def history_from_db(session: Session, scenario: Scenario, now: dt.date) -> SchemeHistory:
    """The database's history up to (not including) ``now``'s month."""
    factor = reference_factor(
        {a.name: a.pflops_per_gpu for a in scenario.accelerators}, scenario.reference_accelerator
    )
    rows = session.execute(
        select(
            UsageRollup.period,
            UsageRollup.award_id,
            UsageRollup.accelerator_type,
            func.sum(UsageRollup.gpu_seconds),
        ).group_by(UsageRollup.period, UsageRollup.award_id, UsageRollup.accelerator_type)
    ).all()
    usage: dict[uuid.UUID, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    periods: set[str] = set()
    for period, award_id, accelerator, seconds in rows:
        usage[award_id][period] += float(seconds or 0) / 3600 * factor(accelerator)
        periods.add(period)
    current = now.replace(day=1)
    months: list[Month] = []
    if periods:
        first = Month(0, _month(min(periods))).next_first
        while first < current:
            months.append(Month(len(months), first))
            first = months[-1].next_first
    supply = supply_plan(scenario)
    capacity = {m.label: supply.month(m).gpu_hours for m in months}
    awards = session.scalars(select(Award).options(selectinload(Award.lines))).all()
    tranches: dict[uuid.UUID, list[tuple[dt.date, int]]] = defaultdict(list)
    for t in session.scalars(select(AwardTranche).where(AwardTranche.released_at.is_not(None))):
        assert t.released_at is not None
        tranches[t.award_id].append((t.released_at.date(), t.share_bp))
    hist_awards = [
        HistAward(
            name=a.reference,
            org=str(a.organisation_id),
            gpu_hours=sum(line.gpu_hours * factor(line.accelerator_type) for line in a.lines),
            start=a.starts_at.date(),
            end=a.ends_at.date(),
            usage=dict(usage.get(a.id, {})),
            released=_released(a, tranches.get(a.id), factor),
        )
        for a in awards
    ]
    known = {a.id for a in awards}
    other: dict[str, float] = defaultdict(float)
    for award_id, by_period in usage.items():
        if award_id not in known:
            for period, hours in by_period.items():
                other[period] += hours
    apps = session.execute(
        select(Application, Organisation.category)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.submitted_at.is_not(None))
        .where(Application.status.not_in((S.DRAFT, S.WITHDRAWN)))
    ).all()
    hist_apps = [
        HistApplication(
            name=app.reference,
            org=str(app.organisation_id),
            gpu_hours=app.gpu_hours * factor(app.accelerator_type),
            duration_months=app.duration_months,
            submitted=app.submitted_at.date() if app.submitted_at else now,
            category=str(category),
            decided=app.decided_at.date() if app.decided_at else None,
            approved=app.status == S.APPROVED,
        )
        for app, category in apps
    ]
    return SchemeHistory(months, capacity, hist_awards, hist_apps, dict(other))


def _released(
    award: Award, shares: list[tuple[dt.date, int]] | None, factor: Callable[[str], float]
) -> tuple[tuple[dt.date, float], ...]:
    """Released tranches as (date, reference GPU-hours); none recorded: all at the start."""
    if not shares:
        return ()
    total = sum(line.gpu_hours * factor(line.accelerator_type) for line in award.lines)
    return tuple((day, total * bp / 10_000) for day, bp in sorted(shares))
