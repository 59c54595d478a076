"""The award lifecycle as a transition table, and the one function that changes an award's status.

::

    active ⇄ suspended
    active, suspended → expired      (the expiry job, at ends_at)
    active, suspended → terminated   (the committee; a reason is required)

Expired and terminated are final: their commitment has shrunk to what was consumed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from computeport.audit.service import record_transition
from computeport.kit.clock import Clock
from computeport.kit.workflow import TransitionTable
from computeport.models.award import Award, AwardStatus

A = AwardStatus

AWARD_WORKFLOW: TransitionTable[AwardStatus] = TransitionTable.of(
    "award",
    {
        A.ACTIVE: [A.SUSPENDED, A.EXPIRED, A.TERMINATED],
        A.SUSPENDED: [A.ACTIVE, A.EXPIRED, A.TERMINATED],
    },
    reason_required=[
        (A.ACTIVE, A.TERMINATED),
        (A.SUSPENDED, A.TERMINATED),
        (A.ACTIVE, A.SUSPENDED),
    ],
)

OPEN_STATES = frozenset({A.ACTIVE, A.SUSPENDED})
"""States in which an award still holds its full cap and may be amended."""


def transition(
    session: Session,
    award: Award,
    to: AwardStatus,
    actor_id: uuid.UUID | None,
    reason: str,
    clock: Clock,
) -> None:
    """Move ``award`` to ``to`` if the table allows it, with its audit record."""
    source = award.status
    AWARD_WORKFLOW.check(source, to, award, reason)
    award.status = to
    record_transition(session, award, source, to, actor_id, reason, clock.now())


__all__ = ["AWARD_WORKFLOW", "OPEN_STATES", "transition"]
