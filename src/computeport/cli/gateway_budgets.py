"""``computeport gateway budget``: the money budgets of keys, applications and departments.

The same service as ``PUT /api/v1/gateway-budgets`` (audited, validated; bad input is a
message naming the field and exit code 2, nothing written), and the same statement as
``GET``: the period in force (calendar month, Hong Kong time), when it resets, the spend so far.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from computeport.cli.common import command_session, console, fail
from computeport.gateway.budget_admin import budget_report, set_budget
from computeport.gateway.budgets import hkd
from computeport.kit.clock import SystemClock
from computeport.kit.errors import ValidationFailed
from computeport.kit.money import Money
from computeport.models.inference import BudgetScope
from computeport.settings import Settings

app = typer.Typer(
    help="Monthly money budgets (HK$) per key, application or department.",
    no_args_is_help=True,
)


def _cents(amount: str) -> int:
    try:
        money = Money.of(amount)
    except ValidationFailed as exc:
        raise fail(f"--hkd: {exc}") from None
    if money.amount_minor < 0:
        raise fail("--hkd: must not be negative")
    return money.amount_minor


@app.command("set")
def set_(
    org: Annotated[str, typer.Option(help="The organisation (name or id).")],
    scope: Annotated[BudgetScope, typer.Option(help="key, application or department.")],
    hkd_amount: Annotated[
        str | None, typer.Option("--hkd", help="HK$ per calendar month, e.g. 1500.00.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="The key's id (scope key).")] = None,
    application: Annotated[
        str | None, typer.Option(help="The application's name (scope application).")
    ] = None,
    remove: Annotated[bool, typer.Option(help="Remove the budget instead.")] = False,
) -> None:
    """Set (or --remove) one monthly budget."""
    from computeport.cli.gateway import organisation_named

    if (hkd_amount is None) == (not remove):
        raise fail("--hkd: give an amount, or --remove (not both)")
    minor = None if remove else _cents(hkd_amount or "")
    try:
        key_id = uuid.UUID(key) if key is not None else None
    except ValueError:
        raise fail(f"--key: {key!r} is not an id") from None
    with command_session() as session:
        organisation = organisation_named(session, org)
        set_budget(
            session,
            SystemClock(),
            organisation.id,
            scope,
            minor,
            key_id=key_id,
            application=application,
        )
        what = "removed" if minor is None else f"{hkd(minor)} a month"
        console.print(f"{organisation.name}: {scope} budget {what}")


@app.command("show")
def show(org: Annotated[str, typer.Option(help="The organisation (name or id).")]) -> None:
    """The organisation's budgets, this period's spend and when they reset."""
    from computeport.cli.gateway import organisation_named

    zone = ZoneInfo(Settings().gateway_budget_timezone)
    with command_session() as session:
        organisation = organisation_named(session, org)
        report = budget_report(session, organisation.id, SystemClock().now(), zone)
    table = Table(title=f"Budgets of {organisation.name}, {report.period} ({report.period_rule})")
    for column in ("scope", "subject", "monthly", "spent", "left"):
        table.add_column(
            column, justify="right" if column in {"monthly", "spent", "left"} else "left"
        )
    for b in report.budgets:
        table.add_row(
            b.scope, b.subject or "—", hkd(b.monthly_minor), hkd(b.spent_minor), hkd(b.left_minor)
        )
    console.print(table)
    console.print(f"resets at {report.resets_at.isoformat()}")
