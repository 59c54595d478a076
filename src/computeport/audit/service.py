"""Writing and reading audit records.

Every workflow's ``transition()`` calls :func:`record_transition` after its table allowed the
move, inside the same unit of work, so a state change and its audit row commit (or roll back)
together.  Non-state events (a commitment changed, a token revoked) use :func:`record_event`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import ensure_aware
from computeport.models.audit import AuditRecord


class Audited(Protocol):
    """Anything with an id whose table name names the entity (every model)."""

    id: uuid.UUID
    __tablename__: str


def _state(value: enum.Enum | str | None) -> str | None:
    if value is None:
        return None
    return str(value.value) if isinstance(value, enum.Enum) else value


def record_transition(
    session: Session,
    entity: Audited,
    from_state: enum.Enum | str | None,
    to_state: enum.Enum | str | None,
    actor_id: uuid.UUID | None,
    reason: str,
    at: datetime,
    *,
    action: str = "transition",
) -> AuditRecord:
    """Add (and flush) the audit row for one state change of ``entity``."""
    record = AuditRecord(
        entity_type=entity.__tablename__,
        entity_id=entity.id,
        action=action,
        from_state=_state(from_state),
        to_state=_state(to_state),
        actor_id=actor_id,
        reason=reason,
        at=ensure_aware(at),
    )
    session.add(record)
    session.flush()
    return record


def record_event(
    session: Session,
    entity: Audited,
    action: str,
    actor_id: uuid.UUID | None,
    reason: str,
    at: datetime,
) -> AuditRecord:
    """An audited event that is not a state change (e.g. ``commitment_changed``)."""
    return record_transition(session, entity, None, None, actor_id, reason, at, action=action)


def history(session: Session, entity_type: str, entity_id: uuid.UUID) -> list[AuditRecord]:
    """The audit rows of one entity, oldest first."""
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    return list(session.scalars(stmt))
