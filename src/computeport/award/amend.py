"""Amendments after the decision: a top-up (more GPU-hours and/or a higher cap) and an extension.

A top-up raises the cap and commits the difference against the envelope under the same lock
and check as a decision (BudgetExceeded → 409, nothing changed); added GPU-hours join the
award's lines and are spread over its tranches in the same shares.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.award.accelerators import ensure_known_lines
from computeport.award.commitments import change_commitment
from computeport.award.repository import lock_award
from computeport.award.schemas import AmendmentIn
from computeport.award.shares import place_on_sole_clusters
from computeport.award.term import check_term
from computeport.award.workflow import OPEN_STATES
from computeport.envelope.service import ensure_headroom, lock_scheme
from computeport.kit.clock import Clock
from computeport.kit.errors import IllegalTransition, ValidationFailed
from computeport.kit.money import Money
from computeport.models.award import (
    AmendmentKind,
    Award,
    AwardAmendment,
    AwardLine,
    MovementKind,
)


def _ensure_open(award: Award) -> None:
    if award.status not in OPEN_STATES:
        raise IllegalTransition(
            f"award {award.reference} is {award.status.value}: it can no longer be amended",
            field="status",
        )


def amend(
    session: Session,
    award_id: uuid.UUID,
    data: AmendmentIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> AwardAmendment:
    """Apply a top-up or an extension; return the amendment record."""
    if data.kind == "top_up":
        return top_up(session, award_id, data, actor_id, clock)
    return extend(session, award_id, data, actor_id, clock)


def top_up(
    session: Session,
    award_id: uuid.UUID,
    data: AmendmentIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> AwardAmendment:
    """More GPU-hours and/or a higher HK$ cap; the cap difference is committed."""
    if data.cap_delta_minor == 0 and not data.lines:
        raise ValidationFailed(
            "a top-up adds GPU-hours (lines) and/or a cap increase (cap_delta_minor)",
            field="cap_delta_minor",
        )
    if data.ends_at is not None:
        raise ValidationFailed("a top-up does not change the end date", field="ends_at")
    ensure_known_lines((line.accelerator_type for line in data.lines), session)
    scheme_id = lock_award(session, award_id, lock=False).scheme_id
    scheme = lock_scheme(session, scheme_id)
    award = lock_award(session, award_id)
    _ensure_open(award)
    what = f"a top-up of award {award.reference}"
    ensure_headroom(session, scheme, data.cap_delta_minor, what=what)

    existing = {line.accelerator_type: line for line in award.lines}
    for line in data.lines:
        if line.accelerator_type in existing:
            existing[line.accelerator_type].gpu_hours += line.gpu_hours
            # Added hours land in the reserve; placed below where one cluster alone may hold them.
            existing[line.accelerator_type].reserve_hours += line.gpu_hours
        else:
            session.add(
                AwardLine(
                    award_id=award.id,
                    accelerator_type=line.accelerator_type,
                    gpu_hours=line.gpu_hours,
                )
            )
    award.cap_minor += data.cap_delta_minor
    change_commitment(
        session,
        scheme,
        award,
        data.cap_delta_minor,
        MovementKind.TOP_UP,
        actor_id,
        data.reason,
        clock,
        what=what,
    )
    amendment = AwardAmendment(
        award_id=award.id,
        kind=AmendmentKind.TOP_UP,
        cap_delta_minor=data.cap_delta_minor,
        gpu_hours_delta={line.accelerator_type: line.gpu_hours for line in data.lines},
        reason=data.reason,
        at=clock.now(),
        actor_id=actor_id,
    )
    session.add(amendment)
    hours = ", ".join(f"+{ln.gpu_hours} {ln.accelerator_type} GPU-hours" for ln in data.lines)
    cap = f"+{Money(data.cap_delta_minor, award.currency)} cap" if data.cap_delta_minor else ""
    record_event(
        session,
        award,
        "top_up",
        actor_id,
        "; ".join(p for p in (hours, cap, data.reason) if p),
        clock.now(),
    )
    session.flush()
    session.refresh(award, ["lines"])
    place_on_sole_clusters(session, [award.id], clock, actor_id=actor_id)
    return amendment


def extend(
    session: Session,
    award_id: uuid.UUID,
    data: AmendmentIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> AwardAmendment:
    """A later end date (the commitment is unchanged)."""
    if data.ends_at is None:
        raise ValidationFailed("an extension needs the new ends_at", field="ends_at")
    if data.cap_delta_minor or data.lines:
        raise ValidationFailed(
            "an extension changes only the end date; use a top-up for hours or cap",
            field="kind",
        )
    award = lock_award(session, award_id)
    _ensure_open(award)
    if data.ends_at <= award.ends_at:
        raise ValidationFailed(
            f"ends_at must be after the current end {award.ends_at.isoformat()}",
            field="ends_at",
        )
    check_term(award.starts_at, data.ends_at)
    previous = award.ends_at
    award.ends_at = data.ends_at
    amendment = AwardAmendment(
        award_id=award.id,
        kind=AmendmentKind.EXTENSION,
        previous_ends_at=previous,
        new_ends_at=data.ends_at,
        reason=data.reason,
        at=clock.now(),
        actor_id=actor_id,
    )
    session.add(amendment)
    record_event(
        session,
        award,
        "extension",
        actor_id,
        f"ends {previous.date().isoformat()} → {data.ends_at.date().isoformat()}; {data.reason}",
        clock.now(),
    )
    session.flush()
    return amendment


__all__ = ["amend", "extend", "top_up"]
