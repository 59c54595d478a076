"""Money as integer minor units (HK cents) with a currency, and the one place rounding happens.

Why integers: sums of cents are exact and comparable across SQLite and PostgreSQL; rates and unit
prices are :class:`~decimal.Decimal` and meet money only in :func:`round_money` and
:func:`split_subsidy`, which round once per line item as DESIGN.md's money rules fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Self

from computeport.kit import decimal_context as _decimal_context
from computeport.kit.errors import ValidationFailed

_decimal_context.install()

DEFAULT_CURRENCY = "HKD"
MAX_AMOUNT_MINOR = 100_000_000_000_00
"""HK$100 billion: far above any real payment or adjustment, well inside a BIGINT (and
SQLite's 64-bit sums of many of them); amounts beyond it are refused as typos."""
_CENT = Decimal(1)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in minor units (cents) of one currency.

    Supports ``+``, ``-``, negation and comparison between the same currency; multiplication
    by a float is deliberately absent — use :func:`round_money` with a Decimal factor.
    """

    amount_minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError(f"Money.amount_minor must be int cents, got {self.amount_minor!r}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency must be a 3-letter ISO code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Self:
        return cls(0, currency)

    @classmethod
    def of(cls, major: str | int | Decimal, currency: str = DEFAULT_CURRENCY) -> Self:
        """Money from major units given exactly (``"12.34"``), refusing fractions of a cent."""
        try:
            value = Decimal(major) * 100
        except (InvalidOperation, TypeError) as exc:
            raise ValidationFailed(f"not an amount: {major!r}") from exc
        if value != value.to_integral_value():
            raise ValidationFailed(f"amount {major!r} has a fraction of a cent")
        return cls(int(value), currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    @property
    def major(self) -> Decimal:
        """The amount in major units (HK$), exact."""
        return Decimal(self.amount_minor) / 100

    def format(self) -> str:
        """``HK$1,234,567.89`` — how people read Hong Kong dollars."""
        sign = "-" if self.amount_minor < 0 else ""
        whole, cents = divmod(abs(self.amount_minor), 100)
        symbol = "HK$" if self.currency == "HKD" else f"{self.currency} "
        return f"{sign}{symbol}{whole:,}.{cents:02d}"

    def __str__(self) -> str:
        return self.format()


def round_money(exact_minor: Decimal) -> int:
    """Round an exact amount in cents half-up to whole cents (the charge rule)."""
    return int(exact_minor.quantize(_CENT, rounding=ROUND_HALF_UP))


def charge_minor(gpu_seconds: int, price_per_gpu_hour_minor: Decimal) -> int:
    """Charge in cents for GPU-seconds at a price per GPU-hour in cents (Decimal), half-up."""
    if gpu_seconds < 0:
        raise ValueError("gpu_seconds must be >= 0")
    return round_money(Decimal(gpu_seconds) * price_per_gpu_hour_minor / Decimal(3600))


def split_subsidy(charge: int, rate: Decimal) -> tuple[int, int]:
    """Split a charge in cents into (subsidy, co-payment).

    The subsidy is ``charge × rate`` rounded half-down (a tied half-cent goes to the
    co-payment); the co-payment is the rest, so the two always add up to the charge.
    """
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError(f"rate must be within [0, 1], got {rate}")
    subsidy = int((Decimal(charge) * rate).quantize(_CENT, rounding=ROUND_HALF_DOWN))
    return subsidy, charge - subsidy


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` cents by integer weights with the largest-remainder method.

    The parts add up to ``total`` exactly and each is within one cent of its exact share;
    ties go to the earlier weight, so the result is deterministic.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    wsum = sum(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    floors = [magnitude * w // wsum for w in weights]
    remainders = [magnitude * w % wsum for w in weights]
    short = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return [sign * f for f in floors]
