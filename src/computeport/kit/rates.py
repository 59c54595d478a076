"""Rates (subsidy rates, multipliers) as exact Decimals parsed from strings, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from computeport.kit import decimal_context as _decimal_context
from computeport.kit.errors import ValidationFailed

_decimal_context.install()

ZERO = Decimal(0)
ONE = Decimal(1)


def parse_rate(value: str | int | Decimal, *, field: str = "rate") -> Decimal:
    """Parse a rate in [0, 1] given as a Decimal, int or string ("0.7"); a float is refused."""
    if isinstance(value, float):
        raise ValidationFailed(
            f"{field}: give rates as strings or Decimals, not floats", field=field
        )
    try:
        rate = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValidationFailed(f"{field}: not a number: {value!r}", field=field) from exc
    if not rate.is_finite() or not ZERO <= rate <= ONE:
        raise ValidationFailed(f"{field}: must be between 0 and 1, got {value}", field=field)
    return rate


def percent(rate: Decimal) -> str:
    """``Decimal("0.7")`` → ``"70%"`` for people."""
    return f"{(rate * 100).normalize():f}%"
