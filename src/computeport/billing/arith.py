"""Exact integer versions of :func:`kit.money.charge_minor` and :func:`kit.money.split_subsidy`.

Why: rating a million records through Decimal quantize costs seconds; the same rules on
integer ratios cost a fraction, and a property test (tests/billing/test_arith.py) proves both
give the same cents for every input.  A rate or price enters as a Decimal and is turned into
an exact integer ratio once.
"""

from __future__ import annotations

from decimal import Decimal


class Price:
    """A price per GPU-hour in cents as an exact ratio ``num / den`` (den includes 3600)."""

    __slots__ = ("den", "num")

    def __init__(self, price_per_gpu_hour_minor: Decimal) -> None:
        num, den = price_per_gpu_hour_minor.as_integer_ratio()
        self.num = num
        self.den = den * 3600

    def charge(self, gpu_seconds: int) -> int:
        """Cents for ``gpu_seconds`` (≥ 0), rounded half-up — as ``kit.money.charge_minor``."""
        q, r = divmod(gpu_seconds * self.num, self.den)
        return q + 1 if 2 * r >= self.den else q


class Rate:
    """A subsidy rate in [0, 1] as an exact ratio."""

    __slots__ = ("den", "num")

    def __init__(self, rate: Decimal) -> None:
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"rate must be within [0, 1], got {rate}")
        self.num, self.den = rate.as_integer_ratio()

    def split(self, charge: int) -> tuple[int, int]:
        """(subsidy, co-payment) of a charge ≥ 0: subsidy half-down — as ``split_subsidy``."""
        q, r = divmod(charge * self.num, self.den)
        subsidy = q + 1 if 2 * r > self.den else q
        return subsidy, charge - subsidy


__all__ = ["Price", "Rate"]
