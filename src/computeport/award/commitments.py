"""Changing an award's commitment: the only code that writes ``committed_minor``.

Every change goes through :func:`change_commitment`, which (under the scheme lock the caller
took) checks headroom for increases, updates the award and appends the matching
``envelope_movement``, so Σ committed = Σ movements holds by construction.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.envelope.service import ensure_headroom
from computeport.kit.clock import Clock
from computeport.kit.money import Money
from computeport.models.award import Award, EnvelopeMovement, MovementKind
from computeport.models.scheme import Scheme


def change_commitment(
    session: Session,
    scheme: Scheme,
    award: Award,
    delta_minor: int,
    kind: MovementKind,
    actor_id: uuid.UUID | None,
    reason: str,
    clock: Clock,
    *,
    what: str,
) -> EnvelopeMovement | None:
    """Add ``delta_minor`` to the award's commitment; None when the delta is 0.

    Call with ``scheme`` locked.  Raises BudgetExceeded (nothing changed) if an increase does
    not fit what is left of the envelope.
    """
    if delta_minor == 0:
        return None
    if delta_minor > 0:
        ensure_headroom(session, scheme, delta_minor, what=what)
    if award.committed_minor + delta_minor < 0:
        raise ValueError("a commitment never goes below zero")
    award.committed_minor += delta_minor
    movement = EnvelopeMovement(
        scheme_id=scheme.id,
        award_id=award.id,
        delta_minor=delta_minor,
        kind=kind,
        reason=reason,
        at=clock.now(),
        actor_id=actor_id,
    )
    session.add(movement)
    record_event(
        session,
        award,
        "commitment_changed",
        actor_id,
        f"{kind.value}: {Money(delta_minor, award.currency)} "
        f"(now {Money(award.committed_minor, award.currency)}); {reason}".rstrip("; "),
        clock.now(),
    )
    return movement


__all__ = ["change_commitment"]
