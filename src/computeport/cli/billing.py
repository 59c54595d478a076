"""``computeport billing``: ingest usage, rate and post it, close months, invoices, payments,
manual adjustments.

Every long command commits batch by batch (one unit of work per batch), so a crash loses at
most one uncommitted batch and a rerun finishes the job with exactly the uninterrupted
result.  ``--now`` pins the clock (replays, tests); otherwise the system clock is used.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from computeport.billing.adjustments import AdjustmentRequest, list_adjustments, post_adjustment
from computeport.billing.burndown import award_burn_down
from computeport.billing.payments import ageing, credit_control, document_by_number, record_payment
from computeport.billing.posting import PostReport, RatingState, post_usage
from computeport.cli.acting import acting, organisation
from computeport.cli.common import console, domain_errors, fail
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv, document_html, document_pdf
from computeport.kit.clock import Clock, ManualClock, SystemClock, ensure_aware
from computeport.kit.errors import ValidationFailed
from computeport.kit.money import Money
from computeport.ledger.queries import balances, unbalanced_journals
from computeport.metering.ingest import IngestReport, ingest_usage
from computeport.metering.jsonl import read_jsonl
from computeport.metering.quarantine import release_quarantine
from computeport.metering.rollups import rebuild_usage_rollups, refresh_usage_rollups
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.award import Award
from computeport.models.invoicing import BillingDocument
from computeport.models.metering import UsageQuarantine
from computeport.pricing.service import seed_assumed_prices
from computeport.settings import Settings

app = typer.Typer(help="Usage, ledger, invoices and payments.", no_args_is_help=True)
invoice_app = typer.Typer(
    help="Issued invoices, credit notes and statements.", no_args_is_help=True
)
app.add_typer(invoice_app, name="invoice")

CRASH_ENV = "COMPUTEPORT_BILLING_CRASH_AFTER"
"""Test-only fault injection: die (exit 137, like kill -9) inside batch N+1, before commit."""

NowOption = Annotated[
    str | None, typer.Option("--now", help="Pin the clock (ISO 8601 UTC), for replays.")
]


def _clock(now: str | None) -> Clock:
    if now is None:
        return SystemClock()
    return ManualClock(_parse_time(now, "--now"))


def _parse_time(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{field}: not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return ensure_aware(value)


@contextmanager
def _factory() -> Iterator[sessionmaker[Session]]:
    engine = make_engine(Settings().database_url)
    try:
        with domain_errors():
            yield make_session_factory(engine)
    finally:
        engine.dispose()


def _maybe_crash(batches_done: int) -> None:
    limit = os.environ.get(CRASH_ENV)
    if limit is not None and batches_done >= int(limit):
        os._exit(137)


@app.command("ingest")
def ingest_command(
    path: Annotated[Path, typer.Argument(help="JSON lines of accounting records.")],
    batch: Annotated[int, typer.Option(help="Records per committed batch.")] = 20_000,
    now: NowOption = None,
) -> None:
    """Ingest accounting records (idempotent; bad ones go to the quarantine)."""
    clock = _clock(now)
    with _factory() as factory:
        records = read_jsonl(path)
        total = IngestReport()
        for done, start in enumerate(range(0, len(records), batch)):
            with unit_of_work(factory) as session:
                total.merge(ingest_usage(session, clock, records[start : start + batch]))
                _maybe_crash(done)
    console.print(
        f"received {total.received}, new {total.new}, already known {total.duplicates}, "
        f"quarantined {sum(total.quarantined.values())} {dict(total.quarantined) or ''}"
    )


def _post(factory: sessionmaker[Session], clock: Clock, batch: int) -> PostReport:
    total = PostReport()
    state = RatingState()
    done = 0
    while True:
        with unit_of_work(factory) as session:
            report = post_usage(session, clock, batch_size=batch, state=state)
            if report.records:
                _maybe_crash(done)
        if report.records == 0:
            return total
        total.merge(report)
        done += 1


@app.command("post")
def post_command(
    batch: Annotated[int, typer.Option(help="Records per committed batch.")] = 50_000,
    now: NowOption = None,
) -> None:
    """Rate and post every unposted usage record (any back end) to the ledger."""
    clock = _clock(now)
    with _factory() as factory:
        r = _post(factory, clock, batch)
    console.print(
        f"rated {r.records} records: {r.charges} ratings, {r.reversals} reversals "
        f"({r.rerated} re-rated, {r.superseded} superseded), {r.journals} journals; "
        f"{dict(r.by_kind)}"
    )


@app.command("rollups")
def rollups_command(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Empty the rollups and recompute them from scratch.")
    ] = False,
) -> None:
    """Bring the report rollups up to date (posting does this batch by batch)."""
    with _factory() as factory, unit_of_work(factory) as session:
        report = rebuild_usage_rollups(session) if rebuild else refresh_usage_rollups(session)
    console.print(
        f"{'rebuilt' if rebuild else 'refreshed'} the report rollups: rating rows "
        f"{report.after + 1}–{report.through} folded in"
        if report.advanced
        else "the report rollups were already up to date"
    )


@app.command("close")
def close_command(
    period: Annotated[str, typer.Option(help="The UTC month, e.g. 2026-10.")],
    issue_date: Annotated[
        str | None, typer.Option(help="Issue date printed on the documents (default: now).")
    ] = None,
    post_first: Annotated[bool, typer.Option("--post/--no-post")] = True,
    now: NowOption = None,
) -> None:
    """Close a month: post what is pending, then issue invoices, credit notes, statements."""
    clock = _clock(now)
    issued = _parse_time(issue_date, "--issue-date") if issue_date else None
    with _factory() as factory:
        if post_first:
            _post(factory, clock, 50_000)
        with unit_of_work(factory) as session:
            report = close_period(session, clock, period, issue_date=issued)
            _maybe_crash(0)
    if report.unposted_records:
        console.print(f"[yellow]{report.unposted_records} records of {period} are not posted")
    console.print(f"{period}: issued {len(report.documents)} documents")
    for number in report.documents:
        console.print(f"  {number}")


@invoice_app.command("list")
def invoice_list(
    period: Annotated[str | None, typer.Option(help="Only this month.")] = None,
) -> None:
    """List issued documents."""
    with _factory() as factory, unit_of_work(factory) as session:
        stmt = select(BillingDocument).order_by(BillingDocument.number)
        if period:
            stmt = stmt.where(BillingDocument.period == period)
        table = Table("number", "kind", "party", "period", "list", "subsidy", "due")
        for d in session.scalars(stmt):
            table.add_row(
                d.number,
                str(d.kind),
                d.party_name,
                d.period,
                Money(d.list_minor).format(),
                Money(d.subsidy_minor).format(),
                Money(d.due_minor).format(),
            )
        console.print(table)


@invoice_app.command("show")
def invoice_show(number: str) -> None:
    """Print a document as CSV."""
    with _factory() as factory, unit_of_work(factory) as session:
        typer.echo(document_csv(document_by_number(session, number)), nl=False)


@invoice_app.command("export")
def invoice_export(
    number: str,
    out: Annotated[Path, typer.Option(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="pdf, csv or html.")] = "pdf",
) -> None:
    """Write a document as PDF, CSV or HTML."""
    if fmt not in {"pdf", "csv", "html"}:
        raise fail(f"--format must be pdf, csv or html, not {fmt!r}")
    with _factory() as factory, unit_of_work(factory) as session:
        doc = document_by_number(session, number)
        if fmt == "pdf":
            out.write_bytes(document_pdf(doc))
        elif fmt == "csv":
            out.write_text(document_csv(doc), encoding="utf-8")
        else:
            out.write_text(document_html(doc), encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("pay")
def pay_command(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    amount: Annotated[str, typer.Argument(help="HK$ received, e.g. 1234.50.")],
    reference: Annotated[str, typer.Option(help="Bank reference (makes it idempotent).")],
    received: Annotated[str | None, typer.Option(help="Date received (ISO 8601).")] = None,
    now: NowOption = None,
) -> None:
    """Record a payment against an invoice, then run credit control (lifts suspensions)."""
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        try:
            minor = Money.of(amount).amount_minor
        except ValidationFailed as exc:
            raise fail(f"amount: {exc.message}") from None
        when = _parse_time(received, "--received") if received else None
        payment = record_payment(
            session, clock, number=number, amount_minor=minor, reference=reference, received_at=when
        )
        control = credit_control(session, clock)
    console.print(f"recorded {Money(payment.amount_minor).format()} on {number}")
    if control.reinstated:
        console.print(f"reinstated: {', '.join(control.reinstated)}")


@app.command("adjust")
def adjust_command(
    amount: Annotated[
        str, typer.Option(help="Signed HK$: -150.00 credits the balance, 80.25 raises it.")
    ],
    reason: Annotated[str, typer.Option(help="Why (required; kept in the audit trail).")],
    period: Annotated[str, typer.Option(help="The month it corrects, e.g. 2026-10.")],
    key: Annotated[str, typer.Option(help="Idempotency key: the same key again is a no-op.")],
    acting_as: Annotated[str | None, typer.Option("--as", help="The operator's e-mail.")] = None,
    target: Annotated[str, typer.Option(help="receivable or subsidy.")] = "receivable",
    org: Annotated[str | None, typer.Option(help="Organisation name (receivable).")] = None,
    award: Annotated[str | None, typer.Option(help="Award reference (subsidy).")] = None,
    now: NowOption = None,
) -> None:
    """Post a manual adjustment to an organisation's receivable or an award's subsidy."""
    try:
        kind = AdjustmentTarget(target)
    except ValueError:
        raise fail(f"--target must be receivable or subsidy, not {target!r}") from None
    try:
        minor = Money.of(amount.replace(",", "")).amount_minor
    except ValidationFailed as exc:
        raise fail(f"amount: {exc.message}") from None
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        subject = acting(session, acting_as)
        org_id = organisation(session, org).id if org is not None else None
        award_id = None
        if award is not None:
            award_id = session.scalar(select(Award.id).where(Award.reference == award))
            if award_id is None:
                raise fail(f"--award: no award {award!r}")
        posted = post_adjustment(
            session,
            clock,
            subject,
            AdjustmentRequest(
                target=kind,
                amount_minor=minor,
                period=period,
                reason=reason,
                idempotency_key=key,
                organisation_id=org_id,
                award_id=award_id,
            ),
        )
        a = posted.adjustment
        summary = (
            f"{'posted' if posted.created else 'already posted'} {key}: "
            f"{Money(a.amount_minor).format()} to the {a.target} of {a.period}; "
            f"billed with {a.billing_period}"
        )
    console.print(summary)


@app.command("adjustments")
def adjustments_command(
    period: Annotated[str | None, typer.Option(help="Only adjustments of this month.")] = None,
) -> None:
    """List manual adjustments and the document that billed each."""
    with _factory() as factory, unit_of_work(factory) as session:
        table = Table("key", "target", "party", "period", "amount", "billed on", "reason")
        for v in list_adjustments(session, period=period):
            a = v.adjustment
            table.add_row(
                a.idempotency_key,
                str(a.target),
                v.award_reference or v.organisation_name,
                a.period,
                Money(a.amount_minor).format(),
                v.document_number or f"({a.billing_period} close)",
                a.reason,
            )
        console.print(table)


@app.command("ageing")
def ageing_command(now: NowOption = None) -> None:
    """Receivables by days past due, per organisation."""
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        table = Table(
            "organisation", "current", "1-30", "31-60", "61-90", "90+", "credits", "total"
        )
        for row in ageing(session, clock):
            table.add_row(
                row.party_name,
                *(Money(v).format() for v in row.buckets.values()),
                Money(row.credits_minor).format(),
                Money(row.total_minor).format(),
            )
        console.print(table)


@app.command("credit-control")
def credit_control_command(now: NowOption = None) -> None:
    """Send overdue reminders; suspend or reinstate awards per their terms."""
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        r = credit_control(session, clock)
    console.print(f"reminders {r.reminders}; suspended {r.suspended}; reinstated {r.reinstated}")


@app.command("balances")
def balances_command() -> None:
    """Ledger balances (sums of postings) and a check that every journal balances."""
    with _factory() as factory, unit_of_work(factory) as session:
        table = Table("account", "kind", "balance")
        for b in balances(session):
            table.add_row(b.code, str(b.kind), Money(b.balance_minor).format())
        console.print(table)
        bad = unbalanced_journals(session)
    if bad:
        raise fail(f"{len(bad)} unbalanced journals: {bad[:5]}", code=1)


@app.command("quarantine")
def quarantine_command(
    release: Annotated[
        bool, typer.Option("--release", help="Ingest the records that are now billable.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Records held back, with the reason (``--release`` ingests and rates the now-billable
    ones, e.g. once a new accelerator type has its first price)."""
    clock = _clock(now)
    with _factory() as factory:
        if release:
            with unit_of_work(factory) as session:
                r = release_quarantine(session, clock)
            posted = _post(factory, clock, 50_000) if r.released else PostReport()
            console.print(
                f"released {r.released} (rated: {posted.records}); still held {r.still_held}"
            )
        with unit_of_work(factory) as session:
            _print_quarantine(session)


def _print_quarantine(session: Session) -> None:
    table = Table("cluster", "job", "submit", "reason", "detail")
    for q in session.scalars(select(UsageQuarantine).order_by(UsageQuarantine.id)):
        table.add_row(q.cluster, q.job_id, q.submit_time.isoformat(), str(q.reason), q.detail)
    console.print(table)


@app.command("burndown")
def burndown_command(reference: str, now: NowOption = None) -> None:
    """An award's use of its cap and GPU-hours, and when it runs out at the current rate."""
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        award_id = session.scalar(select(Award.id).where(Award.reference == reference))
        if award_id is None:
            raise fail(f"no award {reference!r}")
        b = award_burn_down(session, clock, uuid.UUID(str(award_id)))
    console.print(
        f"{b.reference}: {Money(b.consumed_minor).format()} of {Money(b.cap_minor).format()} "
        f"({b.percent_used}%); runs out {b.runs_out_at.date() if b.runs_out_at else '—'}"
    )
    for a in b.by_accelerator:
        console.print(
            f"  {a.accelerator_type}: {a.used_gpu_hours} of {a.awarded_gpu_hours} "
            f"GPU-hours; runs out {a.runs_out_at.date() if a.runs_out_at else '—'}"
        )


@app.command("seed-prices")
def seed_prices_command(now: NowOption = None) -> None:
    """Seed the ASSUMED H800 list price and QOS multipliers (idempotent)."""
    clock = _clock(now)
    with _factory() as factory, unit_of_work(factory) as session:
        seed_assumed_prices(session, clock)
    console.print("seeded the assumed price list")
