"""Payments against invoices, receivable ageing, and credit control (suspend / reinstate).

A payment is a journal ``payment:<bank reference>`` (Dr cash, Cr receivable), so recording the
same bank line twice is a no-op.  Credit control is a periodic job: overdue invoices get a
weekly reminder, and the organisation's awards whose terms say ``suspend_when_overdue`` are
suspended through the award workflow; once nothing is overdue, the suspensions credit control
placed (and only those) are lifted.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.workflow import transition
from computeport.billing.errors import DocumentNotFound
from computeport.billing.notices import notify_overdue
from computeport.kit.clock import Clock, ensure_aware
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.kit.money import MAX_AMOUNT_MINOR, Money
from computeport.ledger.accounts import AccountBook
from computeport.ledger.journal import write_journal
from computeport.models.award import Award, AwardStatus
from computeport.models.invoicing import BillingDocument, CreditHoldEvent, DocumentKind, Payment
from computeport.models.ledger import AccountKind, JournalKind

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def document_by_number(session: Session, number: str) -> BillingDocument:
    doc = session.scalars(select(BillingDocument).where(BillingDocument.number == number)).first()
    if doc is None:
        raise DocumentNotFound(f"no document {number!r}", field="number")
    return doc


def paid_minor(session: Session, document_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(Payment.document_id, func.sum(Payment.amount_minor))
        .where(Payment.document_id.in_(document_ids))
        .group_by(Payment.document_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def record_payment(
    session: Session,
    clock: Clock,
    *,
    number: str,
    amount_minor: int,
    reference: str,
    received_at: datetime | None = None,
) -> Payment:
    """Record money received against invoice ``number`` (or, from the funder, against a
    subsidy statement); idempotent on the bank ``reference``.

    A payment settles at most what is outstanding on the document: money received beyond it
    is refunded or booked as an adjustment, never left as a negative balance on an invoice
    (which ageing, dunning and suspension would misread)."""
    if amount_minor <= 0:
        raise ValidationFailed("a payment is a positive amount", field="amount_minor")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise ValidationFailed("the amount is implausibly large", field="amount_minor")
    reference = reference.strip()
    if not reference:
        raise ValidationFailed("a payment needs its bank reference", field="reference")
    doc = document_by_number(session, number)
    # One payment at a time per document: two racing payments must not both fit what is
    # outstanding, nor both insert one bank reference (PostgreSQL; SQLite's writers queue).
    session.execute(
        select(BillingDocument.id).where(BillingDocument.id == doc.id).with_for_update()
    )
    existing = session.scalars(select(Payment).where(Payment.reference == reference)).first()
    if existing is not None:
        if existing.document_id != doc.id or existing.amount_minor != amount_minor:
            raise Conflict(
                f"payment {reference!r} was recorded with other details", field="reference"
            )
        return existing
    when = ensure_aware(received_at) if received_at is not None else clock.now()
    book = AccountBook(session, clock)
    if doc.kind is DocumentKind.INVOICE:
        # The organisation pays its co-payment.
        kind = JournalKind.PAYMENT
        credit = book.id_for(AccountKind.RECEIVABLE, organisation_id=doc.organisation_id)
    elif doc.kind is DocumentKind.SUBSIDY_STATEMENT and doc.award_id is not None:
        # The funder pays the subsidy of a statement.
        kind = JournalKind.SUBSIDY_PAYMENT
        credit = book.id_for(AccountKind.SUBSIDY_RECEIVABLE, award_id=doc.award_id)
    else:
        raise ValidationFailed(f"{number} is not payable", field="number")
    owed = doc.due_minor if doc.kind is DocumentKind.INVOICE else doc.subsidy_minor
    outstanding = owed - paid_minor(session, [doc.id]).get(doc.id, 0)
    if amount_minor > outstanding:
        raise Conflict(
            f"{Money(amount_minor).format()} exceeds what is outstanding on {number} "
            f"({Money(max(outstanding, 0)).format()}); refund or adjust the excess",
            field="amount_minor",
        )
    journal_id = write_journal(
        session,
        clock,
        key=f"payment:{reference}",
        kind=kind,
        lines=[(book.id_for(AccountKind.CASH), amount_minor), (credit, -amount_minor)],
        occurred_at=when,
        description=f"Payment {reference} for {number}",
        currency=doc.currency,
    )
    assert journal_id is not None
    payment = Payment(
        reference=reference,
        document_id=doc.id,
        organisation_id=doc.organisation_id,
        amount_minor=amount_minor,
        currency=doc.currency,
        received_at=when,
        journal_id=journal_id,
        created_at=clock.now(),
    )
    session.add(payment)
    session.flush()
    return payment


@dataclass
class AgeingRow:
    """One organisation's open invoices by days past due (cents)."""

    organisation_id: uuid.UUID
    party_name: str
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    credits_minor: int = 0
    """Credit notes not yet applied (negative)."""

    @property
    def total_minor(self) -> int:
        return sum(self.buckets.values()) + self.credits_minor


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


@dataclass(frozen=True)
class OpenItem:
    document: BillingDocument
    outstanding_minor: int
    days_overdue: int


def open_items(
    session: Session, clock: Clock, organisation_id: uuid.UUID | None = None
) -> list[OpenItem]:
    """Invoices with money outstanding and unapplied credit notes, oldest first."""
    stmt = select(BillingDocument).where(
        BillingDocument.kind.in_([DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE])
    )
    if organisation_id is not None:
        stmt = stmt.where(BillingDocument.organisation_id == organisation_id)
    docs = list(session.scalars(stmt.order_by(BillingDocument.issued_at, BillingDocument.number)))
    paid = paid_minor(session, [d.id for d in docs])
    now = clock.now()
    items = []
    for d in docs:
        outstanding = d.due_minor - paid.get(d.id, 0)
        if outstanding == 0:
            continue
        items.append(OpenItem(d, outstanding, (now - d.due_at).days))
    return items


def ageing(session: Session, clock: Clock) -> list[AgeingRow]:
    """Receivable ageing per organisation: current, 1-30, 31-60, 61-90, 90+ days past due."""
    rows: dict[uuid.UUID, AgeingRow] = {}
    for item in open_items(session, clock):
        d = item.document
        row = rows.setdefault(d.organisation_id, AgeingRow(d.organisation_id, d.party_name))
        if item.outstanding_minor < 0:
            row.credits_minor += item.outstanding_minor
        else:
            row.buckets[_bucket(item.days_overdue)] += item.outstanding_minor
    return sorted(rows.values(), key=lambda r: r.party_name)


@dataclass
class CreditControlReport:
    reminders: int = 0
    suspended: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)


def _held(session: Session) -> dict[uuid.UUID, str]:
    """Awards whose latest credit-hold event is ``placed``: award id → action."""
    latest: dict[uuid.UUID, str] = {}
    for event in session.scalars(
        select(CreditHoldEvent).order_by(CreditHoldEvent.created_at, CreditHoldEvent.id)
    ):
        latest[event.award_id] = event.action
    return {a: act for a, act in latest.items() if act == "placed"}


def credit_control(session: Session, clock: Clock) -> CreditControlReport:
    """Remind overdue payers weekly, suspend per the terms, reinstate once settled."""
    report = CreditControlReport()
    overdue: dict[uuid.UUID, list[OpenItem]] = defaultdict(list)
    for item in open_items(session, clock):
        if item.outstanding_minor > 0 and item.days_overdue > 0:
            overdue[item.document.organisation_id].append(item)
    held = _held(session)
    now = clock.now()
    for org_id, items in sorted(overdue.items(), key=lambda kv: str(kv[0])):
        awards = session.scalars(select(Award).where(Award.organisation_id == org_id)).all()
        suspends = any(a.suspend_when_overdue for a in awards)
        for item in items:
            report.reminders += notify_overdue(
                session,
                clock,
                item.document,
                item.outstanding_minor,
                suspends=suspends,
                reminder=(item.days_overdue - 1) // 7,
            )
        numbers = ", ".join(i.document.number for i in items)
        for award in awards:
            if award.suspend_when_overdue and award.status is AwardStatus.ACTIVE:
                transition(
                    session,
                    award,
                    AwardStatus.SUSPENDED,
                    None,
                    f"co-payment overdue: {numbers}",
                    clock,
                )
                session.add(
                    CreditHoldEvent(
                        award_id=award.id,
                        organisation_id=org_id,
                        action="placed",
                        reason=f"overdue: {numbers}",
                        created_at=now,
                    )
                )
                report.suspended.append(award.reference)
    for award_id in held:
        on_hold = session.get(Award, award_id)
        if on_hold is None or on_hold.organisation_id in overdue:
            continue
        if on_hold.status is AwardStatus.SUSPENDED:
            transition(session, on_hold, AwardStatus.ACTIVE, None, "co-payment settled", clock)
            report.reinstated.append(on_hold.reference)
        session.add(
            CreditHoldEvent(
                award_id=on_hold.id,
                organisation_id=on_hold.organisation_id,
                action="lifted",
                reason="settled",
                created_at=now,
            )
        )
    session.flush()
    return report


__all__ = [
    "BUCKETS",
    "AgeingRow",
    "CreditControlReport",
    "OpenItem",
    "ageing",
    "credit_control",
    "document_by_number",
    "open_items",
    "paid_minor",
    "record_payment",
]
