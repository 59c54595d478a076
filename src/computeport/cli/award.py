"""``computeport award``: decide, amend, terminate, expire and remind — the committee's CLI.

Each command is one unit of work (``command_session``): it commits on success and writes
nothing on any error (message + exit code 2).  ``--now`` injects the clock (ISO 8601, with a
zone) so the periodic jobs can be replayed and tested.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from computeport.award.amend import amend
from computeport.award.decide import decide
from computeport.award.lifecycle import expire_due, terminate
from computeport.award.schemas import AmendmentIn, AwardLineIn, DecisionIn
from computeport.cli.common import command_session, console, fail
from computeport.envelope.service import envelope_figures, get_scheme
from computeport.kit.clock import Clock, ManualClock, SystemClock, ensure_aware
from computeport.kit.errors import NotFound, ValidationFailed
from computeport.kit.money import Money
from computeport.models.application import Application
from computeport.models.award import Award
from computeport.models.identity import User
from computeport.progress.service import send_reminders
from computeport.progress.tranches import released_gpu_hours

app = typer.Typer(help="Committee awards: decisions, amendments, expiry.", no_args_is_help=True)


def parse_when(value: str | None, *, option: str) -> datetime | None:
    """An ISO 8601 instant with a zone (``2026-11-01T00:00:00Z``) or a date (midnight UTC)."""
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(
            text if "T" in text or " " in text else text + "T00:00:00+00:00"
        )
        return ensure_aware(when)
    except ValueError:
        raise fail(f"{option}: not an ISO 8601 date or time with a zone: {value!r}") from None


def clock_for(now: str | None) -> Clock:
    when = parse_when(now, option="--now")
    return ManualClock(when) if when is not None else SystemClock()


def parse_money(value: str, *, option: str) -> int:
    """``1,000,000.50`` or ``HK$1,000,000.50`` → cents."""
    text = value.strip().removeprefix("HK$").replace(",", "")
    try:
        return Money.of(text).amount_minor
    except ValidationFailed as exc:
        raise fail(f"{option}: {exc.message}") from None


def parse_lines(values: list[str], *, option: str) -> list[AwardLineIn]:
    """``h800=100000`` → a line of 100,000 GPU-hours on H800."""
    lines: list[AwardLineIn] = []
    for raw in values:
        kind, sep, hours = raw.partition("=")
        if not sep or not hours.strip().isdigit():
            raise fail(f"{option}: expected TYPE=GPU_HOURS such as h800=100000, got {raw!r}")
        try:
            lines.append(AwardLineIn(accelerator_type=kind.strip(), gpu_hours=int(hours)))
        except ValueError as exc:
            raise fail(f"{option}: {raw!r}: {exc}") from None
    return lines


def _actor(session: Session, email: str | None) -> uuid.UUID | None:
    if email is None:
        return None
    user_id = session.scalar(select(User.id).where(User.email == email.lower()))
    if user_id is None:
        raise NotFound(f"no user with e-mail {email}", field="--as")
    return user_id


def _award(session: Session, ref: str) -> Award:
    stmt = select(Award).where(Award.reference == ref)
    with contextlib.suppress(ValueError):
        stmt = select(Award).where(or_(Award.reference == ref, Award.id == uuid.UUID(ref)))
    award = session.scalars(stmt).one_or_none()
    if award is None:
        raise NotFound(f"no award {ref}", field="award")
    return award


def _application(session: Session, ref: str) -> Application:
    stmt = select(Application).where(Application.reference == ref)
    with contextlib.suppress(ValueError):
        stmt = select(Application).where(
            or_(Application.reference == ref, Application.id == uuid.UUID(ref))
        )
    application = session.scalars(stmt).one_or_none()
    if application is None:
        raise NotFound(f"no application {ref}", field="application")
    return application


def _print_award(session: Session, award: Award) -> None:
    released = released_gpu_hours(session, award)
    console.print(f"[bold]{award.reference}[/] {award.status.value}  account {award.slurm_account}")
    console.print(
        f"  {award.starts_at:%Y-%m-%d} → {award.ends_at:%Y-%m-%d}, "
        f"rate {award.subsidy_rate.normalize()}"
    )
    console.print(
        f"  cap {Money(award.cap_minor, award.currency)}, committed "
        f"{Money(award.committed_minor, award.currency)}"
    )
    for line in award.lines:
        console.print(
            f"  {line.accelerator_type}: {line.gpu_hours:,} GPU-hours "
            f"({released.get(line.accelerator_type, 0):,} released)"
        )


@app.command("list")
def list_command(status: str | None = typer.Option(None, help="active, suspended, …")) -> None:
    """List awards, newest first."""
    with command_session() as session:
        stmt = select(Award).order_by(Award.created_at.desc())
        if status:
            stmt = stmt.where(Award.status == status)
        table = Table("reference", "status", "ends", "cap", "committed", "account")
        for a in session.scalars(stmt):
            table.add_row(
                a.reference,
                a.status.value,
                f"{a.ends_at:%Y-%m-%d}",
                Money(a.cap_minor, a.currency).format(),
                Money(a.committed_minor, a.currency).format(),
                a.slurm_account,
            )
        console.print(table)


@app.command("show")
def show_command(award: str = typer.Argument(..., help="Award reference or id.")) -> None:
    """Show one award: dates, rate, cap, commitment, GPU-hours released."""
    with command_session() as session:
        _print_award(session, _award(session, award))


@app.command("decide")
def decide_command(
    application: str = typer.Argument(..., help="Application reference (AISS-2026-0042) or id."),
    approve: bool = typer.Option(False, "--approve", help="Approve (creates the award)."),
    reject: bool = typer.Option(False, "--reject", help="Reject."),
    gpu_hours: Annotated[
        list[str] | None, typer.Option("--gpu-hours", help="TYPE=HOURS, repeatable.")
    ] = None,
    start: str | None = typer.Option(None, help="Start date (ISO 8601)."),
    end: str | None = typer.Option(None, help="End date (ISO 8601), after the start."),
    cap: str | None = typer.Option(None, help="HK$ cap on the subsidy, e.g. 12,000,000.00."),
    rate: str | None = typer.Option(None, help="Subsidy rate, e.g. 0.8 (default: the scheme's)."),
    rate_reason: str = typer.Option("", help="Why a rate above the default (exceptional)."),
    tranches: str = typer.Option("10000", help="Tranche shares in basis points, e.g. 5000,5000."),
    report_every: int = typer.Option(6, help="Months between progress reports."),
    reason: str = typer.Option("", help="The committee's reasoning (required to reject)."),
    terms: str = typer.Option("", help="Terms and conditions of the award."),
    charge_reservations: bool = typer.Option(
        False, "--charge-reservations", help="Terms: reserved capacity is charged in full."
    ),
    as_user: str | None = typer.Option(None, "--as", help="Committee member's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Record the committee's decision on an application."""
    if approve == reject:
        raise fail("say --approve or --reject")
    try:
        shares = [int(x) for x in tranches.split(",")]
    except ValueError:
        raise fail(f"--tranches: comma-separated integers expected, got {tranches!r}") from None
    try:
        body = DecisionIn(
            outcome="approve" if approve else "reject",
            reason=reason,
            lines=parse_lines(gpu_hours or [], option="--gpu-hours"),
            starts_at=parse_when(start, option="--start"),
            ends_at=parse_when(end, option="--end"),
            subsidy_rate=Decimal(rate) if rate is not None else None,
            rate_reason=rate_reason,
            cap_minor=parse_money(cap, option="--cap") if cap is not None else None,
            terms=terms,
            charge_reservations=charge_reservations,
            tranche_shares_bp=shares,
            report_every_months=report_every,
        )
    except (ValueError, ArithmeticError) as exc:
        raise fail(str(exc)) from None
    clock = clock_for(now)
    with command_session() as session:
        target = _application(session, application)
        award = decide(session, target.id, body, _actor(session, as_user), clock)
        if award is None:
            console.print(f"{target.reference}: rejected")
        else:
            _print_award(session, award)


@app.command("amend")
def amend_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
    add_cap: str | None = typer.Option(None, help="Top-up: HK$ added to the cap."),
    add_gpu_hours: Annotated[
        list[str] | None, typer.Option("--add-gpu-hours", help="Top-up: TYPE=HOURS.")
    ] = None,
    extend_to: str | None = typer.Option(None, help="Extension: the new end date."),
    as_user: str | None = typer.Option(None, "--as", help="Committee member's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Top up (cap and/or GPU-hours) or extend an award."""
    topping = add_cap is not None or bool(add_gpu_hours)
    if topping == (extend_to is not None):
        raise fail("give a top-up (--add-cap/--add-gpu-hours) or an extension (--extend-to)")
    body = AmendmentIn(
        kind="top_up" if topping else "extension",
        reason=reason,
        cap_delta_minor=parse_money(add_cap, option="--add-cap") if add_cap else 0,
        lines=parse_lines(add_gpu_hours or [], option="--add-gpu-hours"),
        ends_at=parse_when(extend_to, option="--extend-to"),
    )
    clock = clock_for(now)
    with command_session() as session:
        target = _award(session, award)
        amend(session, target.id, body, _actor(session, as_user), clock)
        _print_award(session, target)


@app.command("terminate")
def terminate_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    reason: str = typer.Option(..., help="Why the award ends early."),
    as_user: str | None = typer.Option(None, "--as", help="Committee member's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """End an award early; its commitment shrinks to what was consumed."""
    clock = clock_for(now)
    with command_session() as session:
        target = _award(session, award)
        terminate(session, target.id, reason, _actor(session, as_user), clock)
        _print_award(session, target)


@app.command("expire")
def expire_command(
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Periodic job: expire awards whose end has passed (idempotent)."""
    with command_session() as session:
        done = expire_due(session, clock_for(now))
        for e in done:
            console.print(f"{e.reference}: expired, {Money(e.released_minor)} returned")
        console.print(f"{len(done)} award(s) expired")


@app.command("remind")
def remind_command(
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Periodic job: enqueue progress-report and award-expiry reminders (idempotent)."""
    with command_session() as session:
        r = send_reminders(session, clock_for(now))
        console.print(
            f"reminders queued: {r.reports_due} report(s) due, {r.reports_overdue} overdue, "
            f"{r.awards_expiring} award(s) expiring"
        )


@app.command("envelope")
def envelope_command(
    scheme: str | None = typer.Option(None, help="Scheme code (e.g. AISS)."),
) -> None:
    """The envelope: total, committed, consumed, remaining, per category."""
    with command_session() as session:
        f = envelope_figures(session, get_scheme(session, code=scheme))

        def m(cents: int) -> str:
            return Money(cents, f.currency).format()

        console.print(f"[bold]{f.scheme_code}[/] envelope {m(f.total_minor)}")
        console.print(f"  committed {m(f.committed_minor)}  consumed {m(f.consumed_minor)}")
        console.print(f"  remaining {m(f.remaining_minor)}")
        table = Table("category", "awards", "committed", "consumed")
        for c in f.by_category:
            table.add_row(
                c.category.value, str(c.awards), m(c.committed_minor), m(c.consumed_minor)
            )
        console.print(table)
