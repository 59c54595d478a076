"""The notification outbox: messages written in the same transaction as the event they report.

A dispatcher sends pending rows over SMTP later, so an event and its notification commit or
roll back together, and a slow or failing mail server never blocks or undoes a decision.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class OutboxStatus(enum.StrEnum):
    """Delivery state of one message."""

    PENDING = "pending"  # waiting to be sent (first try, or a retry after next_attempt_at)
    SENDING = "sending"  # claimed by a dispatcher; never picked up again automatically
    SENT = "sent"  # handed to the SMTP server
    FAILED = "failed"  # gave up after the last retry, or refused permanently


class OutboxMessage(IdMixin, TimestampMixin, Base):
    """One e-mail to one recipient."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(40))
    """Template key, e.g. ``decision`` or ``progress_report_due``."""
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    """One message per (event, recipient): enqueueing the same key twice is a no-op."""
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str | None] = mapped_column(String(40), default=None)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
