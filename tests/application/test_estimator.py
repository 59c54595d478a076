"""The 6·N·D estimator: exact arithmetic, stated assumptions, bad input named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.application.estimator import DEFAULT_UTILISATION, estimate_gpu_hours
from computeport.kit.errors import ValidationFailed


def test_seven_billion_on_two_trillion_tokens() -> None:
    e = estimate_gpu_hours(7 * 10**9, 2 * 10**12, "bf16", "h800")
    assert e.flops == 6 * 7 * 10**9 * 2 * 10**12
    # 8.4e22 FLOP / (989.5e12 FLOP/s x 0.40) / 3600 s = 58,952.33 GPU-hours
    assert e.gpu_hours_exact == Decimal("58952.33")
    assert e.gpu_hours == 58953
    assert e.utilisation == DEFAULT_UTILISATION
    assert "40%" in e.assumption
    assert "989.5" in e.assumption


def test_fp8_halves_the_time_and_inference_is_a_third() -> None:
    bf16 = estimate_gpu_hours(10**9, 10**12, "bf16", "h800")
    fp8 = estimate_gpu_hours(10**9, 10**12, "fp8", "h800")
    inference = estimate_gpu_hours(10**9, 10**12, "bf16", "h800", workload="inference")
    assert fp8.gpu_hours_exact < bf16.gpu_hours_exact * Decimal("0.51")
    assert inference.flops * 3 == bf16.flops


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model_parameters": 0}, "model_parameters"),
        ({"tokens": -5}, "tokens"),
        ({"accelerator_type": "tpu-v9"}, "accelerator_type"),
        ({"precision": "fp8", "accelerator_type": "a100"}, "precision"),
        ({"utilisation": Decimal("1.5")}, "utilisation"),
        ({"utilisation": Decimal(0)}, "utilisation"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "model_parameters": 10**9,
        "tokens": 10**12,
        "precision": "bf16",
        "accelerator_type": "h800",
    } | kwargs
    with pytest.raises(ValidationFailed) as info:
        estimate_gpu_hours(**args)  # bad values on purpose: the estimator must name them
    assert info.value.field == field


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**14),
    st.integers(min_value=1, max_value=100),
)
def test_more_work_or_less_utilisation_never_costs_less(n: int, d: int, pct: int) -> None:
    util = Decimal(pct) / 100
    base = estimate_gpu_hours(n, d, "bf16", "h800", util)
    assert estimate_gpu_hours(n, d * 2, "bf16", "h800", util).gpu_hours >= base.gpu_hours
    if pct > 1:
        lower = estimate_gpu_hours(n, d, "bf16", "h800", Decimal(pct - 1) / 100)
        assert lower.gpu_hours >= base.gpu_hours
