"""``computeport scheme``: define the scheme and its rubric, open and close calls."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from computeport.cli import acting
from computeport.cli.common import command_session, console, fail
from computeport.kit.clock import SystemClock
from computeport.kit.errors import ValidationFailed
from computeport.kit.money import Money
from computeport.kit.rates import percent
from computeport.models.identity import OrganisationCategory
from computeport.scheme import service
from computeport.scheme.rubric import CriterionSpec

app = typer.Typer(help="The subsidy scheme: envelope, rates, rubric, calls.", no_args_is_help=True)


def parse_criterion(raw: str) -> CriterionSpec:
    """``key:0.25:Name of the criterion`` (weight as a fraction; ``*`` marks an assumption)."""
    parts = raw.split(":", 2)
    if len(parts) != 3:
        raise fail(
            f"--criterion: expected KEY:WEIGHT:NAME such as alignment:0.25:Alignment, got {raw!r}"
        )
    key, weight, name = (p.strip() for p in parts)
    assumed = name.endswith("*")
    try:
        value = Decimal(weight)
    except InvalidOperation:
        raise fail(f"--criterion {key}: weight {weight!r} is not a number") from None
    return CriterionSpec(key, name.rstrip("*").strip(), value, is_assumption=assumed)


def parse_major(value: str, *, option: str) -> int:
    try:
        return Money.of(value.strip().removeprefix("HK$").replace(",", "")).amount_minor
    except ValidationFailed as exc:
        raise fail(f"{option}: {exc.message}") from None


@app.command("create")
def create(
    code: str,
    name: Annotated[str, typer.Option()],
    envelope: Annotated[str, typer.Option(help="HK$ in major units, e.g. 3,000,000,000.")],
    start: Annotated[str, typer.Option(help="Period start (ISO 8601).")],
    end: Annotated[str, typer.Option(help="Period end (ISO 8601, exclusive).")],
    criterion: Annotated[list[str], typer.Option(help="KEY:WEIGHT:NAME, repeatable.")],
    default_rate: Annotated[str, typer.Option(help="Default subsidy rate.")] = "0.70",
    max_rate: Annotated[str, typer.Option(help="Exceptional maximum rate.")] = "0.90",
    category: Annotated[
        list[OrganisationCategory] | None, typer.Option(help="Eligible (repeatable; all if none).")
    ] = None,
) -> None:
    """Define a scheme with its rubric (weights must sum to exactly 1)."""
    with command_session() as session:
        scheme = service.create_scheme(
            session,
            code=code,
            name=name,
            envelope_minor=parse_major(envelope, option="--envelope"),
            period_start=acting.required_when(start, option="--start"),
            period_end=acting.required_when(end, option="--end"),
            default_rate=Decimal(default_rate),
            max_rate=Decimal(max_rate),
            eligible_categories=[c.value for c in category] if category else service.ALL_CATEGORIES,
            criteria=[parse_criterion(c) for c in criterion],
            at=SystemClock().now(),
        )
        console.print(f"scheme {scheme.code} id={scheme.id}")


@app.command("list")
def list_schemes() -> None:
    with command_session() as session:
        table = Table("code", "name", "envelope", "period", "rates")
        for s in service.list_schemes(session):
            table.add_row(
                s.code,
                s.name,
                Money(s.envelope_minor, s.currency).format(),
                f"{s.period_start:%Y-%m-%d} → {s.period_end:%Y-%m-%d}",
                f"{percent(s.default_rate)} (max {percent(s.max_rate)})",
            )
        console.print(table)


@app.command("show")
def show(code: str) -> None:
    """A scheme's terms, rubric and calls."""
    with command_session() as session:
        s = service.scheme_by_code(session, code)
        console.print(f"[bold]{s.code}[/] {s.name}")
        console.print(f"envelope {Money(s.envelope_minor, s.currency).format()}")
        console.print(f"period {s.period_start.isoformat()} → {s.period_end.isoformat()}")
        console.print(f"rates {percent(s.default_rate)} default, {percent(s.max_rate)} maximum")
        console.print(f"eligible: {', '.join(s.eligible_categories)}")
        rubric = Table("criterion", "weight", "name")
        for c in s.criteria:
            rubric.add_row(
                c.key, percent(c.weight), c.name + (" (assumption)" if c.is_assumption else "")
            )
        console.print(rubric)
        calls = Table("call", "opens", "closes", "open now", "id")
        now = SystemClock().now()
        for call in service.list_calls(session, s.id):
            calls.add_row(
                call.name, call.opens_at.isoformat(),
                call.closes_at.isoformat() if call.closes_at else "rolling",
                "yes" if service.is_open(call, now) else "no", str(call.id),
            )  # fmt: skip
        console.print(calls)


@app.command("open-call")
def open_call(
    code: str,
    name: str,
    opens: Annotated[str, typer.Option(help="ISO 8601.")],
    closes: Annotated[str | None, typer.Option(help="ISO 8601; omit for a rolling call.")] = None,
) -> None:
    """Open a call (round) for applications."""
    opens_at = acting.required_when(opens, option="--opens")
    closes_at = acting.parse_when(closes, option="--closes")
    with command_session() as session:
        scheme = service.scheme_by_code(session, code)
        call = service.create_call(
            session, scheme.id, name=name, opens_at=opens_at, closes_at=closes_at,
            at=SystemClock().now(),
        )  # fmt: skip
        console.print(f"call {call.name} id={call.id}")


@app.command("close-call")
def close_call(call_id: uuid.UUID) -> None:
    """Close a call now."""
    with command_session() as session:
        call = service.close_call(session, call_id, at=SystemClock().now())
        console.print(f"call {call.name} closed at {call.closes_at}")
