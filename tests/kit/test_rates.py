"""Rates are exact Decimals in [0, 1]; floats are refused at the door."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from computeport.kit.errors import ValidationFailed
from computeport.kit.rates import parse_rate, percent


def test_parses_strings_exactly() -> None:
    assert parse_rate("0.7") == Decimal("0.7")
    assert percent(Decimal("0.7")) == "70%"
    assert percent(Decimal("0.875")) == "87.5%"


@pytest.mark.parametrize("bad", ["1.01", "-0.1", "NaN", "seventy"])
def test_out_of_range_or_garbage_names_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rate(bad, field="subsidy_rate")
    assert info.value.field == "subsidy_rate"


def test_a_float_never_becomes_a_rate() -> None:
    with pytest.raises(ValidationFailed, match="not floats"):
        parse_rate(0.7)  # type: ignore[arg-type]  # a float on purpose: refused at run time


def test_float_operation_is_trapped() -> None:
    with pytest.raises(decimal.FloatOperation):
        Decimal(0.7)  # noqa: RUF032 - the point of the test
