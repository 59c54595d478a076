"""Billing periods: UTC calendar months named ``YYYY-MM``, half-open ``[start, end)``.

A value like money, so it lives in kit: billing (adjustments), invoicing (closing) and the
edges all read periods, and none of them should import another to do it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from computeport.kit.errors import ValidationFailed

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text: str) -> tuple[datetime, datetime]:
    """``"2026-10"`` → (2026-10-01T00:00Z, 2026-11-01T00:00Z)."""
    match = _PERIOD.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed(f"period must look like 2026-10, got {text!r}", field="period")
    if not 1970 <= int(match.group(1)) <= 9998:  # the month after must exist too
        raise ValidationFailed(f"period {text!r} is outside 1970-01…9998-12", field="period")
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def period_of(when: datetime) -> str:
    """The period a moment belongs to (UTC)."""
    when = when.astimezone(UTC)
    return f"{when.year:04d}-{when.month:02d}"


__all__ = ["parse_period", "period_of"]
