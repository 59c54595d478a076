"""Ending awards: early termination by the committee and expiry by the periodic job.

Either way the commitment shrinks to what was consumed (DESIGN.md) and the rest returns to the
envelope through a negative ``envelope_movement``; tranches not yet released stay unreleased;
reserved nodes the award still holds are given back (the reconcile loop then removes them from
the cluster).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.commitments import change_commitment
from computeport.award.repository import lock_award
from computeport.award.reservations import release_reservations
from computeport.award.workflow import OPEN_STATES, transition
from computeport.envelope.consumed import ConsumedSource, consumed_by_award
from computeport.envelope.service import lock_scheme
from computeport.kit.clock import Clock
from computeport.models.award import (
    AmendmentKind,
    Award,
    AwardAmendment,
    AwardStatus,
    MovementKind,
)
from computeport.models.scheme import Scheme


def _close(
    session: Session,
    scheme: Scheme,
    award: Award,
    to: AwardStatus,
    actor_id: uuid.UUID | None,
    reason: str,
    clock: Clock,
    consumed: ConsumedSource,
) -> AwardAmendment:
    transition(session, award, to, actor_id, reason, clock)
    used = int(consumed(session, [award.id]).get(award.id, 0))
    keep = max(0, min(used, award.committed_minor))
    kind = MovementKind.TERMINATION if to is AwardStatus.TERMINATED else MovementKind.EXPIRY
    released = award.committed_minor - keep
    change_commitment(
        session,
        scheme,
        award,
        -released,
        kind,
        actor_id,
        reason,
        clock,
        what=f"{kind.value} of award {award.reference}",
    )
    amendment = AwardAmendment(
        award_id=award.id,
        kind=AmendmentKind.TERMINATION if to is AwardStatus.TERMINATED else AmendmentKind.EXPIRY,
        cap_delta_minor=0,
        gpu_hours_delta={},
        previous_ends_at=award.ends_at,
        new_ends_at=min(award.ends_at, clock.now()),
        reason=reason,
        at=clock.now(),
        actor_id=actor_id,
    )
    session.add(amendment)
    release_reservations(
        session, award.id, actor_id, clock.now(), f"award {award.reference} {to.value}"
    )
    session.flush()
    return amendment


def terminate(
    session: Session,
    award_id: uuid.UUID,
    reason: str,
    actor_id: uuid.UUID | None,
    clock: Clock,
    consumed: ConsumedSource = consumed_by_award,
) -> AwardAmendment:
    """End an award early: status TERMINATED, commitment shrinks to consumed (reason needed)."""
    scheme_id = lock_award(session, award_id, lock=False).scheme_id
    scheme = lock_scheme(session, scheme_id)
    award = lock_award(session, award_id)
    return _close(session, scheme, award, AwardStatus.TERMINATED, actor_id, reason, clock, consumed)


def suspend(
    session: Session, award_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None, clock: Clock
) -> Award:
    """Pause an award (e.g. an overdue co-payment): it keeps its commitment; reason needed."""
    award = lock_award(session, award_id)
    transition(session, award, AwardStatus.SUSPENDED, actor_id, reason, clock)
    session.flush()
    return award


def resume(
    session: Session, award_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None, clock: Clock
) -> Award:
    """Lift a suspension (the award must not have reached its end: the expiry job ends it)."""
    award = lock_award(session, award_id)
    transition(session, award, AwardStatus.ACTIVE, actor_id, reason, clock)
    session.flush()
    return award


@dataclass(frozen=True)
class Expired:
    award_id: uuid.UUID
    reference: str
    released_minor: int


def expire_due(
    session: Session,
    clock: Clock,
    consumed: ConsumedSource = consumed_by_award,
    *,
    limit: int | None = None,
) -> Sequence[Expired]:
    """Expire every open award whose end has passed (``ends_at <= now``); idempotent."""
    now = clock.now()
    stmt = (
        select(Award.id, Award.scheme_id)
        .where(Award.status.in_(OPEN_STATES), Award.ends_at <= now)
        .order_by(Award.scheme_id, Award.ends_at, Award.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    due = session.execute(stmt).all()
    done: list[Expired] = []
    locked: dict[uuid.UUID, Scheme] = {}
    for award_id, scheme_id in due:
        if scheme_id not in locked:
            locked[scheme_id] = lock_scheme(session, scheme_id)
        award = lock_award(session, award_id)
        if award.status not in OPEN_STATES:  # closed meanwhile by someone else
            continue
        before = award.committed_minor
        _close(
            session,
            locked[scheme_id],
            award,
            AwardStatus.EXPIRED,
            None,
            f"reached its end date {award.ends_at.date().isoformat()}",
            clock,
            consumed,
        )
        done.append(Expired(award.id, award.reference, before - award.committed_minor))
    return done


__all__ = ["Expired", "expire_due", "resume", "suspend", "terminate"]
