"""Billing's notifications through the outbox: burn-down, invoice issued, payment overdue.

Each is enqueued in the same transaction as the event (a posting batch, a close, a credit
control run) with a dedupe key, so reruns notify nobody twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.kit.money import Money
from computeport.models.award import Award
from computeport.models.invoicing import BillingDocument
from computeport.notification.outbox import notify_organisation
from computeport.notification.templates import register_template

BURN_DOWN = "award_burn_down"
INVOICE_ISSUED = "invoice_issued"
PAYMENT_OVERDUE = "payment_overdue"
THRESHOLDS = (80, 100)
"""Percent of an award's HK$ cap at which its organisation hears about it."""

register_template(
    BURN_DOWN,
    "Award {{ reference }}: {{ percent }}% of its subsidy cap used",
    "Award {{ reference }} has used {{ consumed }} of its {{ cap }} subsidy cap "
    "({{ percent }}%).\n"
    "{% if percent >= 100 %}Further usage is charged at the full list price or refused, as the "
    "award's terms say.{% else %}Plan the rest of the project's compute accordingly.{% endif %}\n",
)
register_template(
    INVOICE_ISSUED,
    "Invoice {{ number }} for {{ period }}: {{ due }} due",
    "Invoice {{ number }} for the period {{ period }} has been issued.\n"
    "Amount due: {{ due }} by {{ due_date }}.\n",
)
register_template(
    PAYMENT_OVERDUE,
    "Payment overdue: invoice {{ number }} ({{ outstanding }})",
    "Invoice {{ number }} was due on {{ due_date }}; {{ outstanding }} is outstanding.\n"
    "{% if suspends %}Awards whose terms say so are suspended until it is paid.{% endif %}\n",
)


def notify_burn_down(session: Session, clock: Clock, consumed: dict[uuid.UUID, int]) -> int:
    """Tell each award's organisation when its consumption crossed 80% / 100% of its cap."""
    sent = 0
    ids = list(consumed)
    if not ids:
        return 0
    awards = session.scalars(select(Award).where(Award.id.in_(ids))).all()
    for award in awards:
        used = consumed[award.id]
        percent = used * 100 // award.cap_minor if award.cap_minor else 0
        for threshold in THRESHOLDS:
            if percent < threshold:
                continue
            sent += len(
                notify_organisation(
                    session,
                    clock,
                    award.organisation_id,
                    kind=BURN_DOWN,
                    context={
                        "reference": award.reference,
                        "percent": threshold,
                        "consumed": Money(used, award.currency).format(),
                        "cap": Money(award.cap_minor, award.currency).format(),
                    },
                    dedupe_key=f"burn-down:{award.id}:{threshold}",
                    entity_type="award",
                    entity_id=award.id,
                )
            )
    return sent


def notify_invoices_issued(
    session: Session, clock: Clock, documents: Iterable[BillingDocument]
) -> int:
    sent = 0
    for doc in documents:
        sent += len(
            notify_organisation(
                session,
                clock,
                doc.organisation_id,
                kind=INVOICE_ISSUED,
                context={
                    "number": doc.number,
                    "period": doc.period,
                    "due": Money(doc.due_minor, doc.currency).format(),
                    "due_date": doc.due_at.date().isoformat(),
                },
                dedupe_key=f"invoice-issued:{doc.number}",
                entity_type="billing_document",
                entity_id=doc.id,
            )
        )
    return sent


def notify_overdue(
    session: Session,
    clock: Clock,
    doc: BillingDocument,
    outstanding_minor: int,
    *,
    suspends: bool,
    reminder: int,
) -> int:
    """Reminder number ``reminder`` (one per week overdue) for an overdue invoice."""
    return len(
        notify_organisation(
            session,
            clock,
            doc.organisation_id,
            kind=PAYMENT_OVERDUE,
            context={
                "number": doc.number,
                "due_date": doc.due_at.date().isoformat(),
                "outstanding": Money(outstanding_minor, doc.currency).format(),
                "suspends": suspends,
            },
            dedupe_key=f"overdue:{doc.number}:{reminder}",
            entity_type="billing_document",
            entity_id=doc.id,
        )
    )


__all__ = [
    "BURN_DOWN",
    "INVOICE_ISSUED",
    "PAYMENT_OVERDUE",
    "THRESHOLDS",
    "notify_burn_down",
    "notify_invoices_issued",
    "notify_overdue",
]
