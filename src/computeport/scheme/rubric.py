"""Rubric validation: weighted criteria whose Decimal weights sum to exactly 1 (100%).

Pure (no database): the scheme service and the review service's weighted total both use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from computeport.kit.errors import ValidationFailed

ONE = Decimal(1)
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion as an officer defines it; ``weight`` is a fraction (``Decimal("0.25")``)."""

    key: str
    name: str
    weight: Decimal
    description: str = ""
    is_assumption: bool = False


def validate_rubric(criteria: Sequence[CriterionSpec]) -> None:
    """Raise :class:`ValidationFailed` naming the offending criterion, or the sum."""
    if not criteria:
        raise ValidationFailed("criteria: a rubric needs at least one criterion", field="criteria")
    seen: set[str] = set()
    for i, c in enumerate(criteria):
        where = f"criteria.{i}"
        if not KEY_RE.match(c.key):
            raise ValidationFailed(
                f"{where}.key: lower-case letters, digits and '_', starting with a letter; "
                f"got {c.key!r}",
                field=f"{where}.key",
            )
        if c.key in seen:
            raise ValidationFailed(f"{where}.key: duplicate key {c.key!r}", field=f"{where}.key")
        seen.add(c.key)
        if not isinstance(c.weight, Decimal) or not c.weight.is_finite():
            raise ValidationFailed(f"{where}.weight: must be a Decimal", field=f"{where}.weight")
        if not Decimal(0) < c.weight <= ONE:
            raise ValidationFailed(
                f"{where}.weight: must be above 0 and at most 1, got {c.weight}",
                field=f"{where}.weight",
            )
    total = sum((c.weight for c in criteria), Decimal(0))
    if total != ONE:
        raise ValidationFailed(
            f"criteria: weights must sum to exactly 1 (100%), they sum to {total}",
            field="criteria",
        )
