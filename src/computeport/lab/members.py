"""Who each Slurm account belongs to, from the centre's tables: awards and organisations.

An award's account belongs to the award's organisation; an organisation's own account (work
paid at the list price) to the organisation. The category is the organisation's
(university, R&D centre, enterprise, government).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.lab.changes import Added
from computeport.lab.history import Member
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation

__all__ = ["account_members", "pending_applications"]


def account_members(session: Session) -> dict[str, Member]:
    """Account name → organisation name and category."""
    out: dict[str, Member] = {}
    for org in session.scalars(select(Organisation)):
        out[org.slurm_account] = Member(org.name, org.category.value)
    rows = session.execute(
        select(Award.slurm_account, Organisation.name, Organisation.category).join(
            Organisation, Organisation.id == Award.organisation_id
        )
    )
    for account, name, category in rows:
        out[account] = Member(name, category.value)
    return out


PENDING = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.REVISION_REQUESTED,
    ApplicationStatus.RECOMMENDED,
)
DAY_S = 86400
MONTH_DAYS = 30


def pending_applications(session: Session) -> dict[str, Added]:
    """Applications still undecided, by reference, as the jobs they would bring if approved.

    The request's GPU-hours over its months, in one job a day of the requested GPUs (a day at
    most; the rest of the hours, if any, would need a bigger job than asked for, and are not
    invented).
    """
    rows = session.execute(
        select(Application, Organisation.name)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.status.in_(PENDING))
    )
    out: dict[str, Added] = {}
    for app, org in rows:
        per_day_s = app.gpu_hours * 3600 / (app.duration_months * MONTH_DAYS) / app.gpus
        run_s = max(1, min(DAY_S, round(per_day_s)))
        out[app.reference] = Added(f"pending:{app.reference}", app.gpus, run_s, org)
    return out
