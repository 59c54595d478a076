"""Sending the outbox: claim due rows, send each over SMTP, record the outcome.

Delivery is at most once per row: a row is *claimed* (status ``sending``, attempt counted) and
committed before the SMTP conversation starts, and a claimed row is never claimed again.  A
dispatcher that dies between the claim and the outcome leaves the row in ``sending`` for an
operator to look at (``computeport notify stuck``) instead of risking a duplicate e-mail.
Transient failures (connection refused, 4xx replies) put the row back to ``pending`` with an
exponential backoff; permanent refusals (5xx) and the last allowed attempt mark it ``failed``.
Each message carries ``Message-ID: <outbox-id@computeport>`` so receivers can de-duplicate too.

The dispatcher is a job boundary, so unlike services it commits (one short transaction per
claim and per outcome).  On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so several
dispatchers can run side by side without sending a row twice.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from computeport.kit.clock import Clock
from computeport.models.notification import OutboxMessage, OutboxStatus
from computeport.settings import Settings


class MailSender(Protocol):
    """Hands one message to a mail server; raises on failure."""

    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Sends over SMTP with :mod:`smtplib` to ``Settings.smtp_host:smtp_port``."""

    def __init__(self, host: str, port: int, timeout_seconds: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        return cls(settings.smtp_host, settings.smtp_port)

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            smtp.send_message(message)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing message is retried."""

    max_attempts: int = 6
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=6)

    def delay_after(self, attempts: int) -> timedelta:
        """Backoff after the ``attempts``-th failed try: base × 2^(attempts−1), capped."""
        delay = self.base_delay * (1 << max(0, attempts - 1))
        return min(delay, self.max_delay)


@dataclass
class DispatchResult:
    """What one dispatch pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = f"<{row.id}@computeport>"
    message["Date"] = format_datetime(row.created_at)
    message["X-Computeport-Kind"] = row.kind
    message.set_content(row.body)
    return message


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def claim_due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Claim up to ``limit`` due pending rows (the caller commits the claim before sending)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(stmt))
    claimed: list[OutboxMessage] = []
    for row in rows:
        # Compare-and-set: only one dispatcher can move a given row out of PENDING.
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(row)
            claimed.append(row)
    return claimed


def dispatch_pending(
    sessions: sessionmaker[Session],
    mailer: MailSender,
    clock: Clock,
    *,
    sender: str,
    policy: RetryPolicy | None = None,
    batch_size: int = 100,
) -> DispatchResult:
    """Send every message due now, one claim batch at a time; return the counts."""
    policy = policy or RetryPolicy()
    result = DispatchResult()
    while True:
        now = clock.now()
        with sessions() as session, session.begin():
            claimed = claim_due(session, now, batch_size)
            emails = [(row.id, row.attempts, build_email(row, sender)) for row in claimed]
        if not emails:
            return result
        for row_id, attempts, email in emails:
            error: Exception | None = None
            try:
                mailer.send(email)
            except (smtplib.SMTPException, OSError) as exc:
                error = exc
            with sessions() as session, session.begin():
                row = session.get_one(OutboxMessage, row_id)
                if error is None:
                    row.status = OutboxStatus.SENT
                    row.sent_at = clock.now()
                    row.last_error = ""
                    result.sent += 1
                elif _is_permanent(error) or attempts >= policy.max_attempts:
                    row.status = OutboxStatus.FAILED
                    row.last_error = f"{type(error).__name__}: {error}"[:2000]
                    result.failed += 1
                else:
                    row.status = OutboxStatus.PENDING
                    row.next_attempt_at = clock.now() + policy.delay_after(attempts)
                    row.last_error = f"{type(error).__name__}: {error}"[:2000]
                    result.retrying += 1
        if len(emails) < batch_size:
            return result


def stuck_messages(session: Session, older_than: datetime) -> list[OutboxMessage]:
    """Rows claimed but never resolved (a dispatcher died mid-send): for an operator."""
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= older_than
    )
    return list(session.scalars(stmt))


__all__ = [
    "DispatchResult",
    "MailSender",
    "RetryPolicy",
    "SmtpSender",
    "build_email",
    "claim_due",
    "dispatch_pending",
    "stuck_messages",
]
