"""``computeport prices list | show | draft | approve | reject``: the centre's rate card.

An operator drafts a change with a reason (``--as`` names who, for the audit trail); a scheme
officer, another person, approves it; it takes effect from a future instant.  Each command is
one unit of work: on any bad input (a zero or negative price, a past date, an unknown
accelerator type or QOS, the drafter approving, a currency other than HKD) it prints the field
and exits 2, having written nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from computeport.cli.acting import acting, clock_for, parse_when
from computeport.cli.common import command_session, console, fail
from computeport.models.pricing import PriceKind
from computeport.pricing.announce import amount_text, price_text
from computeport.pricing.approval import (
    PriceChangeRequest,
    approve_change,
    draft_change,
    pending_changes,
    reject_change,
)
from computeport.pricing.book import PriceEntry
from computeport.pricing.card import load_rate_card

app = typer.Typer(
    help="The rate card: prices in force, announced, drafted and approved.", no_args_is_help=True
)

KINDS = {k.value.replace("_", "-"): k for k in PriceKind}

AsOption = Annotated[
    str | None, typer.Option("--as", help="Who acts (e-mail); kept in the audit trail.")
]
NowOption = Annotated[
    str | None, typer.Option("--now", help="Pin the clock (ISO 8601 UTC), for replays.")
]


def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise fail(f"{option}: not a number: {text!r}") from None
    if not value.is_finite():
        raise fail(f"{option}: not a number: {text!r}")
    return value


def _price(entry: PriceEntry | None) -> str:
    if entry is None:
        return "-"
    text = price_text(entry.kind, entry.unit_price)
    if entry.unit_price_output is not None:
        text += f"; HK${amount_text(entry.unit_price_output)} per million output tokens"
    return text + (" (assumed)" if entry.is_assumption else "")


def _when(entry: PriceEntry | None) -> str:
    return entry.valid_from.strftime("%Y-%m-%d %H:%M UTC") if entry is not None else "-"


def _print_card(at_text: str | None, now: str | None) -> None:
    at = parse_when(at_text, option="--at") or clock_for(now).now()
    with command_session() as session:
        lines = load_rate_card(session, at)
        drafts = pending_changes(session)
    table = Table(title=f"Rate card at {at.strftime('%Y-%m-%d %H:%M UTC')}")
    for column in ("kind", "subject", "where", "in force", "since", "version", "next", "from"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            line.kind.value,
            line.subject,
            " / ".join(x for x in (line.site, line.cluster) if x) or "centre",
            _price(line.in_force),
            _when(line.in_force),
            str(line.in_force.id) if line.in_force is not None else "-",
            _price(line.next),
            _when(line.next),
        )
    console.print(table)
    if drafts:
        console.print(f"{len(drafts)} drafted change(s) awaiting approval:")
        for d in drafts:
            console.print(
                f"  {d.id}  {d.kind.value} {d.subject} {price_text(d.kind, d.unit_price)}"
                + (
                    f" / HK${amount_text(d.unit_price_output)}"
                    if d.unit_price_output is not None
                    else ""
                )
                + f" from {d.valid_from.isoformat()}: {d.reason}",
                highlight=False,
            )


@app.command("list")
def list_command(now: NowOption = None) -> None:
    """The prices in force now and the next announced change of each."""
    _print_card(None, now)


@app.command("show")
def show_command(
    at: Annotated[
        str | None, typer.Option("--at", help="The instant (ISO 8601 or a date); default: now.")
    ] = None,
    now: NowOption = None,
) -> None:
    """The rate card as it stands (or stood) at ``--at``."""
    _print_card(at, now)


@app.command("draft")
def draft_command(
    kind: Annotated[str, typer.Argument(help=f"What is priced: {', '.join(KINDS)}.")],
    subject: Annotated[
        str, typer.Argument(help="Accelerator type (h800), QOS (scavenger) or model name.")
    ],
    price: Annotated[
        str,
        typer.Argument(
            help="HK$ per GPU-hour / per million input tokens / per audio minute, "
            "or the QOS factor."
        ),
    ],
    valid_from: Annotated[
        str, typer.Option("--from", help="When it takes effect (ISO 8601 or a date), future.")
    ],
    reason: Annotated[str, typer.Option(help="Why the price changes (audited, announced).")],
    output_price: Annotated[
        str | None, typer.Option("--output-price", help="Tokens: HK$ per million output tokens.")
    ] = None,
    currency: Annotated[str, typer.Option(help="Only the scheme's, HKD.")] = "HKD",
    site: Annotated[
        str | None, typer.Option(help="Only at this inventory site (default: the whole centre).")
    ] = None,
    cluster: Annotated[
        str | None, typer.Option(help="Only on this cluster (default: the whole centre).")
    ] = None,
    as_user: AsOption = None,
    now: NowOption = None,
) -> None:
    """Draft a price change (an operator); a scheme officer approves it."""
    price_kind = KINDS.get(kind.strip().lower().replace("_", "-"))
    if price_kind is None:
        raise fail(f"KIND: one of {', '.join(KINDS)}, not {kind!r}")
    unit = _decimal(price, "PRICE")
    assert unit is not None
    when = parse_when(valid_from, option="--from")
    assert when is not None
    request = PriceChangeRequest(
        kind=price_kind,
        subject=subject,
        unit_price=unit,
        valid_from=when,
        reason=reason,
        unit_price_output=_decimal(output_price, "--output-price"),
        currency=currency.strip().upper(),
        site=site.strip() if site else None,
        cluster=cluster.strip() if cluster else None,
    )
    clock = clock_for(now)
    with command_session() as session:
        change = draft_change(session, clock, acting(session, as_user), request)
        change_id = change.id
    console.print(f"drafted price change {change_id}; a scheme officer approves it with")
    console.print(f"  computeport prices approve {change_id} --as OFFICER", highlight=False)


def _change_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise fail(f"CHANGE_ID: not a price change id: {text!r}") from None


@app.command("approve")
def approve_command(
    change_id: Annotated[str, typer.Argument(help="The drafted change's id.")],
    note: Annotated[str, typer.Option(help="A note for the audit trail.")] = "",
    as_user: AsOption = None,
    now: NowOption = None,
) -> None:
    """Approve a drafted change (a scheme officer who did not draft it); it is announced."""
    ident = _change_id(change_id)
    with command_session() as session:
        version = approve_change(
            session, clock_for(now), acting(session, as_user), ident, note=note
        )
        text = f"approved: version {version.id}, in force from {version.valid_from.isoformat()}"
    console.print(text, highlight=False, soft_wrap=True)


@app.command("reject")
def reject_command(
    change_id: Annotated[str, typer.Argument(help="The drafted change's id.")],
    reason: Annotated[str, typer.Option(help="Why (audited).")],
    as_user: AsOption = None,
    now: NowOption = None,
) -> None:
    """Turn a drafted change down (a scheme officer)."""
    ident = _change_id(change_id)
    with command_session() as session:
        reject_change(session, clock_for(now), acting(session, as_user), ident, reason=reason)
    console.print(f"rejected price change {ident}")


__all__ = ["app"]
