"""Accelerator types an award may grant GPU-hours on: the catalogue's and the centre's own.

The catalogue (``kit.accelerators``) knows the types applications are sized with (H800, H100,
Ascend 910B …).  A centre that declares its own type in its inventory (Sandy Ridge's
``cn-accel-a``) must be able to award hours on it without a code change ("adding a cluster is
configuration, not code"), so the inventory's accelerator types are known too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES, accelerator
from computeport.kit.errors import ValidationFailed
from computeport.models.centre import AcceleratorType


def centre_types(session: Session) -> frozenset[str]:
    """The accelerator types of the loaded inventory (empty without one)."""
    return frozenset(session.scalars(select(AcceleratorType.name)))


def ensure_known(accelerator_type: str, *, field: str, centre: Collection[str] = ()) -> None:
    """Raise ValidationFailed naming ``field`` unless the type is the catalogue's
    (kit.accelerators) or one of ``centre``'s (the inventory's)."""
    if accelerator_type in centre:
        return
    if accelerator_type in KNOWN_ACCELERATOR_TYPES or not centre:
        accelerator(accelerator_type, field=field)
        return
    known = ", ".join(sorted(KNOWN_ACCELERATOR_TYPES | set(centre)))
    raise ValidationFailed(
        f"{field}: unknown accelerator type {accelerator_type!r}; known: {known}", field=field
    )


def ensure_known_lines(accelerator_types: Iterable[str], session: Session | None = None) -> None:
    """Each award line's type is known and appears once (errors name ``lines.<i>``).

    An award, and a top-up of one, holds at most one line per accelerator type.  With a
    ``session``, the inventory's types are known as well as the catalogue's.
    """
    centre = centre_types(session) if session is not None else frozenset()
    seen: set[str] = set()
    for i, accelerator_type in enumerate(accelerator_types):
        ensure_known(accelerator_type, field=f"lines.{i}.accelerator_type", centre=centre)
        if accelerator_type in seen:
            raise ValidationFailed(
                f"accelerator type {accelerator_type!r} appears twice",
                field=f"lines.{i}.accelerator_type",
            )
        seen.add(accelerator_type)


__all__ = ["KNOWN_ACCELERATOR_TYPES", "centre_types", "ensure_known", "ensure_known_lines"]
