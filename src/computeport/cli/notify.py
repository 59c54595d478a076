"""``computeport notify``: send the notification outbox over SMTP, and look at it."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table
from sqlalchemy import func, select

from computeport.cli.award import clock_for
from computeport.cli.common import command_session, console, fail
from computeport.db.engine import make_engine, make_session_factory
from computeport.models.notification import OutboxMessage
from computeport.notification.dispatcher import SmtpSender, dispatch_pending, stuck_messages
from computeport.settings import Settings

app = typer.Typer(help="The notification outbox (e-mail over SMTP).", no_args_is_help=True)


@app.command("send")
def send_command(
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Send every pending message that is due (retries back off; nothing is sent twice)."""
    settings = Settings()
    if not settings.smtp_enabled:
        raise fail("SMTP is off: set COMPUTEPORT_SMTP_ENABLED=true (and _SMTP_HOST/_SMTP_PORT)")
    engine = make_engine(settings.database_url)
    try:
        result = dispatch_pending(
            make_session_factory(engine),
            SmtpSender.from_settings(settings),
            clock_for(now),
            sender=settings.smtp_sender,
        )
    finally:
        engine.dispose()
    console.print(f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}")


@app.command("status")
def status_command() -> None:
    """Messages per kind and status."""
    with command_session() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count())
            .group_by(OutboxMessage.kind, OutboxMessage.status)
            .order_by(OutboxMessage.kind, OutboxMessage.status)
        ).all()
        table = Table("kind", "status", "messages")
        for kind, status, n in rows:
            table.add_row(kind, str(status.value), str(n))
        console.print(table)


@app.command("stuck")
def stuck_command(
    older_than_minutes: int = typer.Option(30, help="Claimed at least this long ago."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Messages a dispatcher claimed but never resolved (check the mail log before resending)."""
    with command_session() as session:
        cutoff = clock_for(now).now() - timedelta(minutes=older_than_minutes)
        for m in stuck_messages(session, cutoff):
            console.print(f"{m.id} {m.kind} → {m.recipient}: {m.subject}")
