"""Burn-down and forecasts: how much of an award (and of the envelope) is used, and when the
rest runs out at the current rate.

The rate is the subsidy (and GPU-seconds) of the jobs that ended in the trailing window
(30 days for an award, 90 for the scheme) divided by the window; the run-out date is now
+ what is left ÷ that rate.  No rate, no date (None): a forecast is never invented.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.errors import AwardNotFound
from computeport.kit.clock import Clock
from computeport.kit.errors import NotFound
from computeport.kit.units import gpu_hours
from computeport.ledger.queries import consumed_by_award
from computeport.models.award import Award, AwardLine
from computeport.models.metering import ChargeKind, UsageCharge
from computeport.models.scheme import Scheme

AWARD_WINDOW = timedelta(days=30)
SCHEME_WINDOW = timedelta(days=90)
HORIZON = timedelta(days=365 * 100)


@dataclass(frozen=True)
class AcceleratorBurn:
    accelerator_type: str
    awarded_gpu_hours: int
    used_gpu_seconds: int
    runs_out_at: datetime | None

    @property
    def used_gpu_hours(self) -> Decimal:
        return gpu_hours(self.used_gpu_seconds)


@dataclass(frozen=True)
class AwardBurnDown:
    award_id: uuid.UUID
    reference: str
    cap_minor: int
    consumed_minor: int
    list_minor: int
    copay_minor: int
    by_accelerator: tuple[AcceleratorBurn, ...]
    subsidy_per_day_minor: int
    runs_out_at: datetime | None
    """When the HK$ cap is used up at the trailing 30-day rate (None: no usage, or no end)."""

    @property
    def percent_used(self) -> Decimal:
        return (Decimal(self.consumed_minor) * 100 / Decimal(self.cap_minor)).quantize(
            Decimal("0.1")
        )


def _run_out(now: datetime, left: int, used_in_window: int, window: timedelta) -> datetime | None:
    if left <= 0:
        return now
    if used_in_window <= 0:
        return None
    seconds = left * window.total_seconds() / used_in_window
    if seconds > HORIZON.total_seconds():
        return None  # not within any horizon worth printing
    return now + timedelta(seconds=int(seconds))


def award_burn_down(session: Session, clock: Clock, award_id: uuid.UUID) -> AwardBurnDown:
    """The award's use of its cap and GPU-hours, and the forecast run-out dates."""
    award = session.get(Award, award_id)
    if award is None:
        raise AwardNotFound(f"award {award_id} not found", field="award_id")
    now = clock.now()
    since = now - AWARD_WINDOW
    used = (UsageCharge.award_id == award_id) & (UsageCharge.kind != ChargeKind.CREDITED.value)
    totals = session.execute(
        select(
            UsageCharge.accelerator_type,
            func.coalesce(func.sum(UsageCharge.gpu_seconds), 0),
            func.coalesce(func.sum(UsageCharge.list_minor), 0),
            func.coalesce(func.sum(UsageCharge.copay_minor), 0),
        )
        .where(used)
        .group_by(UsageCharge.accelerator_type)
    ).all()
    recent = session.execute(
        select(
            UsageCharge.accelerator_type,
            func.coalesce(func.sum(UsageCharge.gpu_seconds), 0),
            func.coalesce(func.sum(UsageCharge.subsidy_minor), 0),
        )
        .where(used, UsageCharge.end_time >= since, UsageCharge.end_time < now)
        .group_by(UsageCharge.accelerator_type)
    ).all()
    awarded = {
        line.accelerator_type: line.gpu_hours
        for line in session.scalars(select(AwardLine).where(AwardLine.award_id == award_id))
    }
    used_by_type = {r[0]: int(r[1]) for r in totals}
    recent_gs = {r[0]: int(r[1]) for r in recent}
    recent_subsidy = sum(int(r[2]) for r in recent)
    consumed = consumed_by_award(session, [award_id])[award_id]
    burns = tuple(
        AcceleratorBurn(
            accelerator_type=t,
            awarded_gpu_hours=awarded.get(t, 0),
            used_gpu_seconds=used_by_type.get(t, 0),
            runs_out_at=_run_out(
                now,
                awarded.get(t, 0) * 3600 - used_by_type.get(t, 0),
                recent_gs.get(t, 0),
                AWARD_WINDOW,
            )
            if t in awarded
            else None,
        )
        for t in sorted(set(awarded) | set(used_by_type))
    )
    return AwardBurnDown(
        award_id=award.id,
        reference=award.reference,
        cap_minor=award.cap_minor,
        consumed_minor=consumed,
        list_minor=sum(int(r[2]) for r in totals),
        copay_minor=sum(int(r[3]) for r in totals),
        by_accelerator=burns,
        subsidy_per_day_minor=int(recent_subsidy * 86400 // AWARD_WINDOW.total_seconds()),
        runs_out_at=_run_out(now, award.cap_minor - consumed, recent_subsidy, AWARD_WINDOW),
    )


@dataclass(frozen=True)
class EnvelopeForecast:
    scheme_id: uuid.UUID
    envelope_minor: int
    committed_minor: int
    consumed_minor: int
    subsidy_per_day_minor: int
    consumed_by: datetime | None
    """When consumption reaches the whole envelope at the trailing 90-day rate."""
    commitments_consumed_by: datetime | None
    """When consumption reaches what is committed today."""


def envelope_forecast(session: Session, clock: Clock, scheme_id: uuid.UUID) -> EnvelopeForecast:
    """The scheme's envelope: consumed so far and when it runs out at the current rate."""
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(f"scheme {scheme_id} not found", field="scheme_id")
    now = clock.now()
    award_ids = list(session.scalars(select(Award.id).where(Award.scheme_id == scheme_id)))
    committed = int(
        session.scalar(
            select(func.coalesce(func.sum(Award.committed_minor), 0)).where(
                Award.scheme_id == scheme_id
            )
        )
        or 0
    )
    consumed = sum(consumed_by_award(session, award_ids).values())
    recent = (
        int(
            session.scalar(
                select(func.coalesce(func.sum(UsageCharge.subsidy_minor), 0)).where(
                    UsageCharge.award_id.in_(award_ids),
                    UsageCharge.end_time >= now - SCHEME_WINDOW,
                    UsageCharge.end_time < now,
                )
            )
            or 0
        )
        if award_ids
        else 0
    )
    return EnvelopeForecast(
        scheme_id=scheme_id,
        envelope_minor=scheme.envelope_minor,
        committed_minor=committed,
        consumed_minor=consumed,
        subsidy_per_day_minor=int(recent * 86400 // SCHEME_WINDOW.total_seconds()),
        consumed_by=_run_out(now, scheme.envelope_minor - consumed, recent, SCHEME_WINDOW),
        commitments_consumed_by=_run_out(now, committed - consumed, recent, SCHEME_WINDOW),
    )


__all__ = [
    "AcceleratorBurn",
    "AwardBurnDown",
    "EnvelopeForecast",
    "award_burn_down",
    "envelope_forecast",
]
