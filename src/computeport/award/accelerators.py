"""Accelerator types an award may grant GPU-hours on: the centre's one allow-list."""

from __future__ import annotations

from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES, accelerator


def ensure_known(accelerator_type: str, *, field: str) -> None:
    """Raise ValidationFailed naming ``field`` unless the type is known (kit.accelerators)."""
    accelerator(accelerator_type, field=field)


__all__ = ["KNOWN_ACCELERATOR_TYPES", "ensure_known"]
