"""Months of a planning horizon: UTC calendar months, half-open ``[first day, next first day)``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Month", "horizon", "overlap_days"]


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """One calendar month of the horizon (``index`` counts from the horizon's start)."""

    index: int
    first: dt.date

    @property
    def label(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def next_first(self) -> dt.date:
        y, m = divmod(self.first.month, 12)
        return dt.date(self.first.year + y, m + 1, 1)

    @property
    def days(self) -> int:
        return (self.next_first - self.first).days

    @property
    def hours(self) -> int:
        return self.days * 24

    def years_from(self, start: dt.date) -> float:
        """Years elapsed since ``start`` (at the month's first day)."""
        return (self.first - start).days / 365.25


def horizon(start: dt.date, months: int) -> list[Month]:
    """``months`` consecutive months from ``start`` (the 1st of a month)."""
    out: list[Month] = []
    first = start.replace(day=1)
    for i in range(months):
        out.append(Month(i, first))
        first = out[-1].next_first
    return out


def overlap_days(a0: dt.date, a1: dt.date, b0: dt.date, b1: dt.date) -> int:
    """Days in common between half-open intervals ``[a0, a1)`` and ``[b0, b1)``."""
    return max(0, (min(a1, b1) - max(a0, b0)).days)
