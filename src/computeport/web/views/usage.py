"""Usage and money over time, read from the rating sub-ledger's rollup (``usage_rollup``).

A record's current rating is the sum of its signed rows, so plain sums over the rows give the
current figures (reversals included); the rollup holds those sums per period, organisation,
award, QOS and accelerator type, kept current as usage is posted.  Months are the ``period``
(UTC month of job end).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.metering.repository import rollups_of
from computeport.models.award import Award
from computeport.models.rollup import UsageRollup


@dataclass(frozen=True)
class MonthMoney:
    """One month's charges: GPU-seconds, list price, subsidy and co-payment (cents)."""

    period: str
    gpu_seconds: int
    list_minor: int
    subsidy_minor: int
    copay_minor: int


def money_by_month(
    session: Session,
    *,
    scheme_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    award_id: uuid.UUID | None = None,
) -> list[MonthMoney]:
    """Charges per month, oldest first, optionally for one scheme, organisation or award."""
    stmt = select(
        UsageRollup.period,
        func.coalesce(func.sum(UsageRollup.gpu_seconds), 0),
        func.coalesce(func.sum(UsageRollup.list_minor), 0),
        func.coalesce(func.sum(UsageRollup.subsidy_minor), 0),
        func.coalesce(func.sum(UsageRollup.copay_minor), 0),
    ).group_by(UsageRollup.period)
    if scheme_id is not None:
        stmt = stmt.join(Award, Award.id == UsageRollup.award_id).where(
            Award.scheme_id == scheme_id
        )
    if organisation_id is not None:
        stmt = stmt.where(rollups_of(organisation_id))
    if award_id is not None:
        stmt = stmt.where(UsageRollup.award_id == award_id)
    rows = session.execute(stmt.order_by(UsageRollup.period)).all()
    return [MonthMoney(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def subsidy_by_award(session: Session, award_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Subsidy consumed per award (cents) from the rating rows' rollup."""
    if not award_ids:
        return {}
    rows = session.execute(
        select(UsageRollup.award_id, func.coalesce(func.sum(UsageRollup.subsidy_minor), 0))
        .where(UsageRollup.award_id.in_(award_ids))
        .group_by(UsageRollup.award_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows}
