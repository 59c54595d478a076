"""Committed demand from the database: awards (active, suspended) and pending applications.

The only capacity module that knows SQLAlchemy: it turns ``Award``/``AwardLine`` rows and
applications awaiting a decision into the plain :class:`AwardDemand` values the framework-free
planner takes (``plan_capacity(..., awards=awards_from_db(session, today))``).

* An award line commits its GPU-hours over the award's ``[starts_at, ends_at)``.
* A pending application (submitted, under review, revision requested, recommended) is an
  award the committee might approve: its GPU-hours over ``duration_months`` from the first of
  next month (``as_of``), marked ``pending`` — the batch a capacity-aware approval checks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from computeport.capacity.demand import AwardDemand
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, AwardStatus

__all__ = ["PENDING_APPLICATION_STATUSES", "awards_from_db", "pending_from_db"]

PENDING_APPLICATION_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.REVISION_REQUESTED,
    ApplicationStatus.RECOMMENDED,
)


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, 1)


def awards_from_db(session: Session, as_of: dt.date, *, pending: bool = True) -> list[AwardDemand]:
    """Active and suspended awards' lines, plus (``pending``) applications awaiting decision."""
    rows = session.scalars(
        select(Award)
        .where(Award.status.in_((AwardStatus.ACTIVE, AwardStatus.SUSPENDED)))
        .options(selectinload(Award.lines))
        .order_by(Award.reference)
    ).all()
    out = [
        AwardDemand(
            name=f"{award.reference}/{line.accelerator_type}",
            gpu_hours=float(line.gpu_hours),
            start=award.starts_at.date(),
            end=award.ends_at.date(),
            accelerator=line.accelerator_type,
        )
        for award in rows
        for line in award.lines
    ]
    if pending:
        out.extend(pending_from_db(session, as_of))
    return out


def pending_from_db(session: Session, as_of: dt.date) -> list[AwardDemand]:
    """Applications awaiting a decision, as pending awards starting the first of next month."""
    start = _add_months(as_of.replace(day=1), 1)
    apps = session.scalars(
        select(Application)
        .where(Application.status.in_(PENDING_APPLICATION_STATUSES))
        .order_by(Application.reference)
    ).all()
    return [
        AwardDemand(
            name=app.reference,
            gpu_hours=float(app.gpu_hours),
            start=start,
            end=_add_months(start, app.duration_months),
            accelerator=app.accelerator_type,
            pending=True,
        )
        for app in apps
    ]
