"""Enqueueing notifications: rows added to the caller's transaction, rendered at once.

Rendering at enqueue time makes each row self-contained: the dispatcher needs no access to the
domain, and what was sent is exactly what the row says.  A ``dedupe_key`` makes enqueueing
idempotent, so periodic jobs (reminders) can run as often as they like.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.kit.errors import ValidationFailed
from computeport.models.identity import Membership, Role, User
from computeport.models.notification import OutboxMessage, OutboxStatus
from computeport.notification.templates import template_for


def enqueue(
    session: Session,
    clock: Clock,
    *,
    kind: str,
    recipient: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
) -> OutboxMessage | None:
    """Add one message for ``recipient``; return it, or None if ``dedupe_key`` was already used.

    The key is scoped per recipient (``{dedupe_key}:{recipient}``), so one event can notify
    several people and a repeated event notifies nobody twice.
    """
    if "@" not in recipient:
        raise ValidationFailed(f"not an e-mail address: {recipient!r}", field="recipient")
    key = f"{dedupe_key}:{recipient.lower()}"
    if len(key) > 200:
        raise ValidationFailed("dedupe key too long (200 characters at most)", field="dedupe_key")
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    pending = next(
        (obj for obj in session.new if isinstance(obj, OutboxMessage) and obj.dedupe_key == key),
        None,
    )
    if pending is not None:
        return None
    subject, body = template_for(kind).render(context)
    now = clock.now()
    message = OutboxMessage(
        kind=kind,
        dedupe_key=key,
        recipient=recipient,
        subject=subject,
        body=body,
        entity_type=entity_type,
        entity_id=entity_id,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def enqueue_many(
    session: Session,
    clock: Clock,
    *,
    kind: str,
    recipients: Iterable[str],
    context: Mapping[str, Any],
    dedupe_key: str,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
) -> list[OutboxMessage]:
    """:func:`enqueue` for each distinct recipient; returns the messages actually added."""
    added: list[OutboxMessage] = []
    for recipient in dict.fromkeys(r.lower() for r in recipients):
        message = enqueue(
            session,
            clock,
            kind=kind,
            recipient=recipient,
            context=context,
            dedupe_key=dedupe_key,
            entity_type=entity_type,
            entity_id=entity_id,
        )
        if message is not None:
            added.append(message)
    return added


def organisation_contacts(
    session: Session, organisation_id: uuid.UUID, *also: uuid.UUID | None
) -> list[str]:
    """E-mail addresses of the organisation's active admins, plus the users named in ``also``.

    ``also`` is typically the application's author, who should hear about it even when not an
    admin of the organisation.
    """
    stmt = (
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.role == Role.ORG_ADMIN,
            User.is_active.is_(True),
        )
        .order_by(User.email)
    )
    emails = list(session.scalars(stmt))
    extra_ids = [u for u in also if u is not None]
    if extra_ids:
        emails += list(
            session.scalars(
                select(User.email).where(User.id.in_(extra_ids), User.is_active.is_(True))
            )
        )
    return list(dict.fromkeys(e.lower() for e in emails))


def notify_organisation(
    session: Session,
    clock: Clock,
    organisation_id: uuid.UUID,
    *also: uuid.UUID | None,
    kind: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
) -> list[OutboxMessage]:
    """:func:`enqueue_many` to the :func:`organisation_contacts` of ``organisation_id``.

    Every event that concerns an organisation is addressed this way, so who hears about it is
    decided in one place.
    """
    return enqueue_many(
        session,
        clock,
        kind=kind,
        recipients=organisation_contacts(session, organisation_id, *also),
        context=context,
        dedupe_key=dedupe_key,
        entity_type=entity_type,
        entity_id=entity_id,
    )


__all__ = ["enqueue", "enqueue_many", "notify_organisation", "organisation_contacts"]
