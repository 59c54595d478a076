"""``computeport token``: API tokens (shown once, stored hashed, revocable)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from computeport.cli import acting
from computeport.cli.common import command_session, console
from computeport.identity import service
from computeport.kit.clock import SystemClock

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires: Annotated[str | None, typer.Option(help="Expiry, ISO 8601 with a zone.")] = None,
) -> None:
    """Issue a token for a user and print it (once: only its hash is kept)."""
    with command_session() as session:
        user = acting.user(session, email, option="EMAIL")
        _row, plaintext = service.issue_token(
            session,
            user_id=user.id,
            name=name,
            expires_at=acting.parse_when(expires, option="--expires"),
            at=SystemClock().now(),
        )
    typer.echo(plaintext)


@app.command("list")
def list_tokens(email: str) -> None:
    """A user's tokens (prefixes only)."""
    with command_session() as session:
        user = acting.user(session, email, option="EMAIL")
        table = Table("id", "name", "prefix", "expires", "revoked", "last used")
        for t in service.list_tokens(session, user.id):
            table.add_row(
                str(t.id), t.name, t.prefix, str(t.expires_at or ""),
                str(t.revoked_at or ""), str(t.last_used_at or ""),
            )  # fmt: skip
        console.print(table)


@app.command("revoke")
def revoke(token_id: uuid.UUID, email: Annotated[str, typer.Option("--as")]) -> None:
    """Revoke a token (its owner, or an operator)."""
    with command_session() as session:
        subject = acting.acting(session, email)
        service.revoke_token(session, token_id, by=subject, at=SystemClock().now())
        console.print(f"revoked {token_id}")
