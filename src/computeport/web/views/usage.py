"""Usage and money over time, read from metering's rating sub-ledger (``usage_charge``).

A record's current rating is the sum of its signed rows, so plain sums over the rows give the
current figures (reversals included).  Months are the rows' ``period`` (UTC month of job end).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.award import Award
from computeport.models.metering import UsageCharge


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
        UsageCharge.period,
        func.coalesce(func.sum(UsageCharge.gpu_seconds), 0),
        func.coalesce(func.sum(UsageCharge.list_minor), 0),
        func.coalesce(func.sum(UsageCharge.subsidy_minor), 0),
        func.coalesce(func.sum(UsageCharge.copay_minor), 0),
    ).group_by(UsageCharge.period)
    if scheme_id is not None:
        stmt = stmt.join(Award, Award.id == UsageCharge.award_id).where(
            Award.scheme_id == scheme_id
        )
    if organisation_id is not None:
        stmt = stmt.where(UsageCharge.organisation_id == organisation_id)
    if award_id is not None:
        stmt = stmt.where(UsageCharge.award_id == award_id)
    rows = session.execute(stmt.order_by(UsageCharge.period)).all()
    return [MonthMoney(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def subsidy_by_award(session: Session, award_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Subsidy consumed per award (cents) from the rating rows."""
    if not award_ids:
        return {}
    rows = session.execute(
        select(UsageCharge.award_id, func.coalesce(func.sum(UsageCharge.subsidy_minor), 0))
        .where(UsageCharge.award_id.in_(award_ids))
        .group_by(UsageCharge.award_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows if r[0] is not None}
