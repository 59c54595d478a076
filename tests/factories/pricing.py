"""Prices: the assumed H800 list price (HK$28.00 per GPU-hour) and QOS multipliers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.pricing.service import seed_assumed_prices


def prices(session: Session, clock: ManualClock) -> None:
    """The assumed prices in force from the clock's now (scavenger QOS at half price)."""
    seed_assumed_prices(session, clock)
