"""How long an award may run: at most :data:`MAX_AWARD_MONTHS` from its start, extensions
included.

An application asks for at most 60 months; the committee may extend an award by up to a year
beyond that.  Without a limit an end date in year 9999 was accepted, and the progress
schedule would have written a report row per month until then (tens of thousands of rows in
one request) or overflowed the calendar.
"""

from __future__ import annotations

from datetime import datetime

from computeport.kit.errors import ValidationFailed
from computeport.progress.schedule import add_months

MAX_AWARD_MONTHS = 72


def check_term(starts_at: datetime, ends_at: datetime) -> None:
    """Refuse (naming ``ends_at``) an end before the start or beyond the longest term."""
    if starts_at >= ends_at:
        raise ValidationFailed("ends_at must be after starts_at", field="ends_at")
    try:
        latest = add_months(starts_at, MAX_AWARD_MONTHS)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            "starts_at is too late in the calendar for an award", field="starts_at"
        ) from None
    if ends_at > latest:
        raise ValidationFailed(
            f"an award runs at most {MAX_AWARD_MONTHS} months from its start "
            f"(until {latest.date().isoformat()}), extensions included",
            field="ends_at",
        )


__all__ = ["MAX_AWARD_MONTHS", "check_term"]
