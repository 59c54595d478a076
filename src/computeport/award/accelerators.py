"""Accelerator types an award may grant GPU-hours on.

The AISC runs NVIDIA H800 throughout (DESIGN.md); other types are listed so a centre can add
hardware without a code change to the award domain once the inventory owns this list.
"""

from __future__ import annotations

from computeport.kit.errors import ValidationFailed

KNOWN_ACCELERATOR_TYPES = frozenset({"h800", "h100", "h200", "a100", "ascend-910b"})


def ensure_known(accelerator_type: str, *, field: str) -> None:
    if accelerator_type not in KNOWN_ACCELERATOR_TYPES:
        known = ", ".join(sorted(KNOWN_ACCELERATOR_TYPES))
        raise ValidationFailed(
            f"unknown accelerator type {accelerator_type!r}; known: {known}", field=field
        )


__all__ = ["KNOWN_ACCELERATOR_TYPES", "ensure_known"]
