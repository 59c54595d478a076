"""Token charges appear on the month's invoice as lines of their own, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.token_rating import post_all_tokens
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine
from tests.factories.inference import card, department, event


def _lines(session: Session, kind: DocumentKind) -> list[tuple[str, str, int, int, int, int]]:
    rows = session.execute(
        select(DocumentLine, BillingDocument.number)
        .join(BillingDocument, BillingDocument.id == DocumentLine.document_id)
        .where(BillingDocument.kind == kind)
        .order_by(BillingDocument.number, DocumentLine.position)
    ).all()
    return [
        (n, ln.accelerator_type, ln.jobs, ln.list_minor, ln.subsidy_minor, ln.due_minor)
        for ln, n in rows
    ]


def test_token_lines_on_the_invoice_and_late_ones_on_the_next_document(
    session: Session, clock: ManualClock
) -> None:
    card(session, clock)
    org, award = department(session, clock, "0.7")
    ingest_token_usage(session, clock, [event(org, award, 1_000_000, 250_000)])
    ingest_token_usage(session, clock, [event(org, award, 1_000_000, 250_000)])
    post_all_tokens(session, clock)
    clock.advance(timedelta(days=40))
    first = close_period(session, clock, "2026-10")
    assert len(first.documents) == 2  # the department's invoice, the award's statement
    assert _lines(session, DocumentKind.INVOICE) == [
        ("INV-2026-10-0001", "tokens:smollm2", 2, 700, 490, 210)
    ]
    assert close_period(session, clock, "2026-10").documents == []  # nothing new: nothing
    ingest_token_usage(session, clock, [event(org, award, 1_000_000, 0)])  # rated late
    post_all_tokens(session, clock)
    close_period(session, clock, "2026-10")
    assert _lines(session, DocumentKind.INVOICE)[-1] == (
        "INV-2026-10-0002",
        "tokens:smollm2",
        1,
        200,
        140,
        60,
    )
