"""Quota arithmetic saturates and UNLIMITED absorbs; GPU-hour conversions are exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.kit.units import UNLIMITED, Quota, gpu_hours, gpu_seconds_from_hours

amounts = st.integers(min_value=0, max_value=10**15)


@given(amounts, amounts)
def test_subtraction_never_goes_below_zero(a: int, b: int) -> None:
    assert (Quota.of(a) - Quota.of(b)).value == max(0, a - b)


@given(amounts)
def test_unlimited_absorbs(a: int) -> None:
    assert (UNLIMITED + a).unlimited
    assert (UNLIMITED - a).unlimited
    assert (Quota.of(a) - UNLIMITED).value == 0
    assert UNLIMITED.allows(a)


@given(amounts, amounts)
def test_allows_is_a_bound(limit: int, amount: int) -> None:
    assert Quota.of(limit).allows(amount) == (amount <= limit)


def test_negative_quota_is_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        Quota.of(-1)


@given(st.integers(min_value=0, max_value=10**9))
def test_hours_round_trip(hours: int) -> None:
    assert gpu_seconds_from_hours(hours) == hours * 3600
    assert gpu_hours(hours * 3600) == Decimal(hours)


def test_display_hours_round_half_up_to_four_places() -> None:
    assert gpu_hours(1) == Decimal("0.0003")  # 1/3600 = 0.000277…
    assert gpu_hours(5400) == Decimal("1.5")


def test_fractional_second_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number"):
        gpu_seconds_from_hours(Decimal("0.0001"))
