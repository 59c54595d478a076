"""Instants as requests carry them: aware, and in UTC from the edge on.

``AwareDatetime`` alone accepts a time whose zone pushes it past the calendar in UTC (year 1 at
+01:00, year 9999 at -01:00); converting it later, in a service, overflows into a 500.  Here it
is converted while the request is validated, so it is a 422 naming the field instead, and what
the services receive is already UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the calendar once converted to UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A request's instant: a zone is required; the value is converted to UTC."""

__all__ = ["UtcDatetime"]
