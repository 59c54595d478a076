"""When will the envelope run out at the current pace? A small, pure, tested projection."""

from __future__ import annotations

from datetime import date, timedelta

from computeport.kit.errors import ValidationFailed

DAYS_PER_MONTH_CENTI = 3044
"""An average month is 30.44 days (365.25 / 12), in hundredths to keep the sum in integers."""


def exhaustion_date(
    total_minor: int, consumed_minor: int, monthly_minor: list[int], today: date, window: int = 3
) -> date | None:
    """The date consumption reaches ``total_minor`` if the last ``window`` months' pace holds.

    ``monthly_minor`` is consumption per month, oldest first, ending with the latest month.
    ``None`` when nothing is being consumed (no forecast); ``today`` when already exhausted.
    """
    if window < 1:
        raise ValidationFailed("window: at least one month", field="window")
    if consumed_minor >= total_minor:
        return today
    recent = [m for m in monthly_minor[-window:] if m > 0]
    if not recent:
        return None
    remaining = total_minor - consumed_minor
    days = remaining * len(recent) * DAYS_PER_MONTH_CENTI // (sum(recent) * 100)
    try:
        return today + timedelta(days=days)
    except OverflowError:
        return date.max
