"""An organisation's awards with what they used: GPU-hours and subsidy, burn-down and forecast.

Usage comes from metering's rating rows (``usage_charge``), summed per award and per month.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.award import Award
from computeport.models.metering import UsageCharge
from computeport.web.formatting import HONG_KONG


@dataclass(frozen=True)
class AwardUse:
    """One award with its consumption so far."""

    award: Award
    approved_gpu_seconds: int
    used_gpu_seconds: int
    subsidy_minor: int
    copay_minor: int

    @property
    def used_share(self) -> Decimal:
        if self.approved_gpu_seconds <= 0:
            return Decimal(0)
        return (Decimal(self.used_gpu_seconds) / self.approved_gpu_seconds).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def cap_share(self) -> Decimal:
        if self.award.cap_minor <= 0:
            return Decimal(0)
        return (Decimal(self.subsidy_minor) / self.award.cap_minor).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )


def award_uses(session: Session, awards: list[Award]) -> list[AwardUse]:
    ids = [a.id for a in awards]
    used: dict[uuid.UUID, tuple[int, int, int]] = {}
    if ids:
        rows = session.execute(
            select(
                UsageCharge.award_id,
                func.coalesce(func.sum(UsageCharge.gpu_seconds), 0),
                func.coalesce(func.sum(UsageCharge.subsidy_minor), 0),
                func.coalesce(func.sum(UsageCharge.copay_minor), 0),
            )
            .where(UsageCharge.award_id.in_(ids))
            .group_by(UsageCharge.award_id)
        ).all()
        used = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows if r[0] is not None}
    result = []
    for award in awards:
        gpu_s, subsidy, copay = used.get(award.id, (0, 0, 0))
        approved = sum(line.gpu_hours for line in award.lines) * 3600
        result.append(AwardUse(award, approved, gpu_s, subsidy, copay))
    return result


@dataclass(frozen=True)
class BurnDown:
    """Remaining GPU-hours at each month's end, with a straight-line forecast to the end date."""

    months: list[str]
    remaining_hours: list[float]
    ideal_hours: list[float]
    forecast_empty: str | None


def burn_down(session: Session, use: AwardUse, now: datetime) -> BurnDown:
    """Month by month from the award's start to its end (HKT months for the axis)."""
    award = use.award
    rows = session.execute(
        select(UsageCharge.period, func.sum(UsageCharge.gpu_seconds))
        .where(UsageCharge.award_id == award.id)
        .group_by(UsageCharge.period)
    ).all()
    per_month = {str(r[0]): int(r[1] or 0) for r in rows}
    months: list[str] = []
    start = award.starts_at.astimezone(HONG_KONG)
    end = award.ends_at.astimezone(HONG_KONG)
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    approved = use.approved_gpu_seconds
    remaining: list[float] = []
    left = approved
    current = now.astimezone(HONG_KONG).strftime("%Y-%m")
    for label in months:
        if label > current:
            break
        left -= per_month.get(label, 0)
        remaining.append(round(left / 3600, 1))
    span = max(len(months) - 1, 1)
    ideal = [round(approved / 3600 * (1 - i / span), 1) for i in range(len(months))]
    forecast: str | None = None
    elapsed = len(remaining)
    used = approved - left
    if elapsed and used > 0 and left > 0:
        months_to_empty = left * elapsed / used
        index = elapsed - 1 + int(months_to_empty + 0.999)
        forecast = months[index] if index < len(months) else None
    elif left <= 0 and remaining:
        forecast = months[elapsed - 1]
    return BurnDown(months, remaining, ideal, forecast)
