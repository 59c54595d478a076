"""The integer fast path of rating gives exactly the cents of the kit's Decimal rules."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from computeport.billing.arith import Price, Rate
from computeport.kit.money import charge_minor, split_subsidy


@given(
    st.integers(min_value=0, max_value=10**10),
    st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("1.25"), Decimal("0.333")]),
)
def test_charge_equals_kit(gpu_seconds: int, price: Decimal, multiplier: Decimal) -> None:
    cents = price * multiplier
    assert Price(cents).charge(gpu_seconds) == charge_minor(gpu_seconds, cents)


@given(
    st.integers(min_value=0, max_value=10**13),
    st.decimals(min_value=0, max_value=1, places=6, allow_nan=False, allow_infinity=False),
)
def test_split_equals_kit(charge: int, rate: Decimal) -> None:
    assert Rate(rate).split(charge) == split_subsidy(charge, rate)
