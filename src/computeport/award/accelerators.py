"""Accelerator types an award may grant GPU-hours on: the centre's one allow-list."""

from __future__ import annotations

from collections.abc import Iterable

from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES, accelerator
from computeport.kit.errors import ValidationFailed


def ensure_known(accelerator_type: str, *, field: str) -> None:
    """Raise ValidationFailed naming ``field`` unless the type is known (kit.accelerators)."""
    accelerator(accelerator_type, field=field)


def ensure_known_lines(accelerator_types: Iterable[str]) -> None:
    """Each award line's type is known and appears once (errors name ``lines.<i>``).

    An award, and a top-up of one, holds at most one line per accelerator type.
    """
    seen: set[str] = set()
    for i, accelerator_type in enumerate(accelerator_types):
        ensure_known(accelerator_type, field=f"lines.{i}.accelerator_type")
        if accelerator_type in seen:
            raise ValidationFailed(
                f"accelerator type {accelerator_type!r} appears twice",
                field=f"lines.{i}.accelerator_type",
            )
        seen.add(accelerator_type)


__all__ = ["KNOWN_ACCELERATOR_TYPES", "ensure_known", "ensure_known_lines"]
