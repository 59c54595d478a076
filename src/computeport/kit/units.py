"""Compute units: integer GPU-seconds, GPU-hours for display, and a saturating :class:`Quota`.

After Kueue's ``Amount``: quota arithmetic goes through one value type with an explicit
``UNLIMITED`` that absorbs, so "no limit" is never spelled ``None`` and sums never overflow
into nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NewType

from computeport.kit import decimal_context as _decimal_context

_decimal_context.install()

GpuSeconds = NewType("GpuSeconds", int)
SECONDS_PER_HOUR = 3600


def gpu_hours(gpu_seconds: int) -> Decimal:
    """GPU-seconds → GPU-hours as a Decimal with 4 decimal places (display only)."""
    return (Decimal(gpu_seconds) / SECONDS_PER_HOUR).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


def gpu_seconds_from_hours(hours: int | Decimal) -> int:
    """GPU-hours (whole or Decimal) → integer GPU-seconds, refusing fractions of a second."""
    value = Decimal(hours) * SECONDS_PER_HOUR
    if value != value.to_integral_value():
        raise ValueError(f"{hours} GPU-hours is not a whole number of GPU-seconds")
    return int(value)


@dataclass(frozen=True, slots=True)
class Quota:
    """A non-negative amount (e.g. GPU-seconds) or UNLIMITED, with saturating arithmetic."""

    value: int | None  # None only inside: use Quota.UNLIMITED / Quota.of

    @staticmethod
    def of(value: int) -> Quota:
        if value < 0:
            raise ValueError("a quota is never negative")
        return Quota(value)

    @property
    def unlimited(self) -> bool:
        return self.value is None

    def __add__(self, other: Quota | int) -> Quota:
        o = other if isinstance(other, Quota) else Quota.of(other)
        if self.value is None or o.value is None:
            return UNLIMITED
        return Quota(self.value + o.value)

    def __sub__(self, other: Quota | int) -> Quota:
        """Saturating subtraction: never below zero; UNLIMITED minus anything stays UNLIMITED."""
        o = other if isinstance(other, Quota) else Quota.of(other)
        if self.value is None:
            return UNLIMITED
        if o.value is None:
            return Quota(0)
        return Quota(max(0, self.value - o.value))

    def allows(self, amount: int) -> bool:
        return self.value is None or amount <= self.value

    def __str__(self) -> str:
        return "UNLIMITED" if self.value is None else str(self.value)


UNLIMITED = Quota(None)
