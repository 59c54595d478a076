"""Property tests of the money rules (DESIGN.md "Money"): exact cents, one rounding per line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, FloatOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.kit.errors import ValidationFailed
from computeport.kit.money import Money, allocate, charge_minor, round_money, split_subsidy

rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
charges = st.integers(min_value=0, max_value=10**13)
prices = st.decimals(
    min_value=0, max_value=100_000, places=8, allow_nan=False, allow_infinity=False
)


class TestSplitSubsidy:
    @given(charges, rates)
    def test_parts_add_up_to_the_cent(self, charge: int, rate: Decimal) -> None:
        subsidy, copay = split_subsidy(charge, rate)
        assert subsidy + copay == charge
        assert 0 <= subsidy <= charge

    @given(charges, rates)
    def test_subsidy_is_within_half_a_cent_of_exact(self, charge: int, rate: Decimal) -> None:
        subsidy, _ = split_subsidy(charge, rate)
        assert abs(Decimal(subsidy) - Decimal(charge) * rate) <= Decimal("0.5")

    def test_a_tied_half_cent_goes_to_the_co_payment(self) -> None:
        # 5 cents at 90%: 4.5 cents of subsidy, rounded half-down to 4; co-payment 1.
        assert split_subsidy(5, Decimal("0.9")) == (4, 1)
        # 15 cents at 70%: 10.5 → 10; co-payment 5.
        assert split_subsidy(15, Decimal("0.7")) == (10, 5)

    def test_rates_outside_zero_to_one_are_refused(self) -> None:
        with pytest.raises(ValueError, match="rate"):
            split_subsidy(100, Decimal("1.01"))


class TestCharge:
    @given(st.integers(min_value=0, max_value=10**10), prices)
    def test_charge_is_the_exact_amount_rounded_half_up(
        self, gpu_seconds: int, price: Decimal
    ) -> None:
        exact = Decimal(gpu_seconds) * price / Decimal(3600)
        assert charge_minor(gpu_seconds, price) == int(exact.quantize(Decimal(1), ROUND_HALF_UP))

    def test_half_a_cent_rounds_up(self) -> None:
        # 9 GPU-seconds at 1,400 cents per GPU-hour = 3.5 cents → 4.
        assert charge_minor(9, Decimal(1400)) == 4
        assert round_money(Decimal("2.5")) == 3

    def test_negative_usage_is_refused(self) -> None:
        with pytest.raises(ValueError, match="gpu_seconds"):
            charge_minor(-1, Decimal(2800))

    def test_a_float_never_becomes_money(self) -> None:
        with pytest.raises(FloatOperation):
            Decimal(0.7)  # noqa: RUF032 - the point of the test


class TestAllocate:
    @given(
        st.integers(min_value=-(10**12), max_value=10**12),
        st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
            lambda w: sum(w) > 0
        ),
    )
    def test_parts_add_up_and_are_within_a_cent(self, total: int, weights: list[int]) -> None:
        parts = allocate(total, weights)
        assert sum(parts) == total
        for part, w in zip(parts, weights, strict=True):
            exact = Decimal(total) * w / sum(weights)
            assert abs(Decimal(part) - exact) < 1

    def test_deterministic_ties_go_to_the_earlier_weight(self) -> None:
        assert allocate(1, [1, 1]) == [1, 0]


class TestMoney:
    @given(
        st.integers(min_value=-(10**15), max_value=10**15),
        st.integers(min_value=-(10**15), max_value=10**15),
    )
    def test_addition_and_subtraction_are_exact(self, a: int, b: int) -> None:
        assert (Money(a) + Money(b)).amount_minor == a + b
        assert (Money(a) - Money(b)) + Money(b) == Money(a)
        negated = -Money(a)
        assert -negated == Money(a)

    def test_currencies_do_not_mix(self) -> None:
        with pytest.raises(ValueError, match="currency"):
            Money(1, "HKD") + Money(1, "USD")

    def test_of_refuses_fractions_of_a_cent(self) -> None:
        assert Money.of("12.34").amount_minor == 1234
        with pytest.raises(ValidationFailed):
            Money.of("0.001")

    def test_format(self) -> None:
        assert Money(123456789).format() == "HK$1,234,567.89"
        assert Money(-5).format() == "-HK$0.05"
