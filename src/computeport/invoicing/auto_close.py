"""Which months are due for a close: the worker's automatic month-end.

A centre closes each month once its usage has landed.  Closing by hand (``computeport billing
close --period …``) stays the rule for a deployment that wants a person to decide; a
deployment that sets ``COMPUTEPORT_AUTO_CLOSE_GRACE_DAYS`` lets the worker close every month
``grace`` after it ends (time for late accounting records to arrive).

A month is due when it ended at least ``grace`` ago and holds rating rows that no close has
covered yet (``usage_charge.id`` above the highest ``charges_through`` of its documents).  That
includes a month closed before whose late records have since been rated: the close issues what
they require (credit notes or supplementary documents), never an edit.  Only the last
``lookback`` months are looked at, so the daily check stays a bounded read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.kit.periods import period_of
from computeport.models.invoicing import BillingDocument
from computeport.models.metering import UsageCharge

LOOKBACK_MONTHS = 3


def _months_before(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:])
    index = year * 12 + month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_due(
    session: Session, now: datetime, grace: timedelta, *, lookback: int = LOOKBACK_MONTHS
) -> list[str]:
    """Months (oldest first) that ended ``grace`` before ``now`` and have charges no close
    covered, among the ``lookback`` months before the one ``now − grace`` falls in."""
    limit = period_of(now - grace)
    floor = _months_before(limit, lookback)
    charged: dict[str, int] = {
        period: int(top)
        for period, top in session.execute(
            select(UsageCharge.period, func.max(UsageCharge.id))
            .where(UsageCharge.period >= floor, UsageCharge.period < limit)
            .group_by(UsageCharge.period)
        )
    }
    if not charged:
        return []
    closed: dict[str, int] = {
        period: int(through)
        for period, through in session.execute(
            select(BillingDocument.period, func.max(BillingDocument.charges_through))
            .where(BillingDocument.period.in_(list(charged)))
            .group_by(BillingDocument.period)
        )
    }
    return sorted(p for p, top in charged.items() if top > closed.get(p, 0))


__all__ = ["LOOKBACK_MONTHS", "periods_due"]
