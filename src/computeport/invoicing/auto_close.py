"""Which months are due for a close: the worker's automatic month-end.

A centre closes each month once its usage has landed.  Closing by hand (``computeport billing
close --period …``) stays the rule for a deployment that wants a person to decide; a
deployment that sets ``COMPUTEPORT_AUTO_CLOSE_GRACE_DAYS`` lets the worker close every month
``grace`` after it ends (time for late accounting records to arrive).

A month is due when it ended at least ``grace`` ago and holds rating rows that no close has
covered yet (``usage_charge.id`` above the highest ``charges_through`` of its documents, or
``token_charge.id`` above ``token_charges_through``).  That
includes a month closed before whose late records have since been rated: the close issues what
they require (credit notes or supplementary documents), never an edit.  Only the last
``lookback`` months are looked at, so the daily check stays a bounded read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.kit.periods import period_of
from computeport.models.inference import TokenCharge
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
    due = _uncovered(
        session, UsageCharge.period, UsageCharge.id, BillingDocument.charges_through, floor, limit
    )
    due |= _uncovered(
        session,
        TokenCharge.period,
        TokenCharge.id,
        BillingDocument.token_charges_through,
        floor,
        limit,
    )
    return sorted(due)


def _uncovered(
    session: Session, period: Any, charge_id: Any, through: Any, floor: str, limit: str
) -> set[str]:
    """Periods in ``[floor, limit)`` holding charges above their documents' ``through``."""
    charged: dict[str, int] = {
        p: int(top)
        for p, top in session.execute(
            select(period, func.max(charge_id))
            .where(period >= floor, period < limit)
            .group_by(period)
        )
    }
    if not charged:
        return set()
    closed: dict[str, int] = {
        p: int(top or 0)
        for p, top in session.execute(
            select(BillingDocument.period, func.max(through))
            .where(BillingDocument.period.in_(list(charged)))
            .group_by(BillingDocument.period)
        )
    }
    return {p for p, top in charged.items() if top > closed.get(p, 0)}


__all__ = ["LOOKBACK_MONTHS", "periods_due"]
