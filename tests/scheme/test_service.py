"""Scheme definition: rubric weights sum to exactly 100%, dates in order, rates bounded; calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from computeport.kit.errors import Conflict, ValidationFailed
from computeport.scheme import service
from computeport.scheme.rubric import CriterionSpec, validate_rubric
from tests.factories import scheme as f


class TestRubric:
    def test_aiss_rubric_is_valid(self) -> None:
        validate_rubric(f.AISS_RUBRIC)

    def test_weights_off_by_a_hair_are_refused(self) -> None:
        bent = (*f.AISS_RUBRIC[:-1], replace(f.AISS_RUBRIC[-1], weight=Decimal("0.2000001")))
        with pytest.raises(ValidationFailed, match="sum to exactly 1") as info:
            validate_rubric(bent)
        assert info.value.field == "criteria"

    def test_duplicate_key_names_the_criterion(self) -> None:
        dup = (CriterionSpec("a", "A", Decimal("0.5")), CriterionSpec("a", "B", Decimal("0.5")))
        with pytest.raises(ValidationFailed) as info:
            validate_rubric(dup)
        assert info.value.field == "criteria.1.key"

    @given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8))
    def test_sum_rule_is_exact(self, percents: list[int]) -> None:
        specs = [CriterionSpec(f"c{i}", f"C{i}", Decimal(p) / 100) for i, p in enumerate(percents)]
        if sum(percents) == 100:
            validate_rubric(specs)
        else:
            with pytest.raises(ValidationFailed):
                validate_rubric(specs)


class TestScheme:
    def test_create_with_rubric_in_order(self, session: Session) -> None:
        scheme = f.scheme(session)
        assert [c.key for c in scheme.criteria] == [c.key for c in f.AISS_RUBRIC]
        assert scheme.default_rate == Decimal("0.70")
        assert scheme.max_rate == Decimal("0.90")

    def test_period_must_be_ordered(self, session: Session) -> None:
        with pytest.raises(ValidationFailed) as info:
            f.scheme(session, period_end=f.T0)
        assert info.value.field == "period_end"

    def test_default_rate_above_max_is_refused(self, session: Session) -> None:
        scheme = f.scheme(session)
        with pytest.raises(ValidationFailed) as info:
            service.update_scheme(session, scheme.id, default_rate=Decimal("0.95"))
        assert info.value.field == "default_rate"

    def test_unknown_category_is_refused(self, session: Session) -> None:
        with pytest.raises(ValidationFailed) as info:
            f.scheme(session, eligible_categories=("university", "pirates"))
        assert info.value.field == "eligible_categories.1"

    def test_duplicate_code_is_409(self, session: Session) -> None:
        f.scheme(session, code="AISS")
        with pytest.raises(Conflict):
            f.scheme(session, code="AISS")

    def test_set_rubric_replaces_criteria(self, session: Session) -> None:
        scheme = f.scheme(session)
        service.set_rubric(session, scheme.id, [CriterionSpec("only", "Only", Decimal(1))])
        assert [c.key for c in scheme.criteria] == ["only"]


class TestCalls:
    def test_round_is_open_half_open(self, session: Session) -> None:
        scheme = f.scheme(session)
        opens = f.T0 + timedelta(days=10)
        call = f.call(session, scheme, opens_at=opens, closes_at=opens + timedelta(days=30))
        assert not service.is_open(call, opens - timedelta(seconds=1))
        assert service.is_open(call, opens)
        assert not service.is_open(call, opens + timedelta(days=30))

    def test_rolling_call_stays_open_until_closed(self, session: Session) -> None:
        scheme = f.scheme(session)
        call = f.call(session, scheme)
        later = f.T0 + timedelta(days=400)
        assert service.is_open(call, later)
        service.close_call(session, call.id, at=later)
        assert not service.is_open(call, later)
        with pytest.raises(Conflict):
            service.close_call(session, call.id, at=later)

    def test_dates_in_wrong_order(self, session: Session) -> None:
        scheme = f.scheme(session)
        with pytest.raises(ValidationFailed) as info:
            f.call(session, scheme, opens_at=f.T0, closes_at=f.T0 - timedelta(days=1))
        assert info.value.field == "closes_at"
