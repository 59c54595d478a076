"""Weighted totals: Σ weight × score with Decimal weights (summing to 1), on the 0–10 scale.

Pure, so the panel view, reports and property tests share one definition.  A total exists only
when every criterion is scored: a partial total would rank incomplete reviews low.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

TOTAL_PLACES = Decimal("0.01")


def weighted_total(weights: Mapping[str, Decimal], scores: Mapping[str, int]) -> Decimal | None:
    """The weighted score, or ``None`` while some criterion is unscored."""
    if not weights or any(key not in scores for key in weights):
        return None
    total = sum((weights[key] * scores[key] for key in weights), Decimal(0))
    return total.quantize(TOTAL_PLACES)


def mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(TOTAL_PLACES)
