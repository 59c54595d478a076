"""Announcing an approved price through the outbox, in the approval's own transaction.

Who hears: the centre's operators and scheme officers (they run the rate card) and every
organisation's administrators (their co-payment is a share of it).  The dedupe key is the
version's id, so a retried approval announces nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.models.identity import Membership, Role, User
from computeport.models.notification import OutboxMessage
from computeport.models.pricing import PriceKind, PriceVersion
from computeport.notification.outbox import enqueue_many
from computeport.notification.templates import register_template

PRICE_APPROVED = "price_approved"

UNITS = {
    PriceKind.GPU_HOUR: "per GPU-hour",
    PriceKind.QOS_MULTIPLIER: "times the list price",
    PriceKind.TOKENS: "per million input tokens",
    PriceKind.AUDIO_MINUTE: "per audio minute",
}

register_template(
    PRICE_APPROVED,
    "Rate card: {{ subject }} {{ price }} from {{ valid_from }}",
    "A new price has been approved for the centre's rate card.\n\n"
    "{{ what }}: {{ price }}{% if output %} (output tokens: {{ output }}){% endif %}\n"
    "In force from: {{ valid_from }}\n"
    "Reason: {{ reason }}\n\n"
    "Usage ending before that instant is charged at the price in force then; invoices name the "
    "price version ({{ version }}) of each line.\n",
)


def amount_text(amount: Decimal) -> str:
    """A stored price (8 decimal places) as people write it: cents, or as many places as it
    really has (``28.00``, ``0.125``)."""
    cents = amount.quantize(Decimal("0.01"))
    return str(cents) if cents == amount else str(amount.normalize())


def price_text(kind: PriceKind, amount: Decimal) -> str:
    """How a price reads in a message: HK$ and the unit, or a QOS factor."""
    if kind is PriceKind.QOS_MULTIPLIER:
        return f"×{amount.normalize()} {UNITS[kind]}"
    return f"HK${amount_text(amount)} {UNITS[kind]}"


def announce_price(session: Session, clock: Clock, version: PriceVersion) -> list[OutboxMessage]:
    """Enqueue the announcement of ``version`` to everyone who needs to know."""
    recipients = session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.role.in_([Role.OPERATOR, Role.SCHEME_OFFICER, Role.ORG_ADMIN]),
            User.is_active.is_(True),
        )
        .order_by(User.email)
    )
    kind = version.kind
    where = " at ".join(x for x in (version.site, version.cluster) if x)
    context = {
        "subject": version.subject,
        "what": f"{kind.value.replace('_', ' ')} price of {version.subject}"
        + (f" ({where})" if where else ""),
        "price": price_text(kind, version.unit_price),
        "output": f"HK${amount_text(version.unit_price_output)} per million output tokens"
        if version.unit_price_output is not None
        else "",
        "valid_from": version.valid_from.strftime("%Y-%m-%d %H:%M UTC"),
        "reason": version.note or "-",
        "version": str(version.id),
    }
    return enqueue_many(
        session,
        clock,
        kind=PRICE_APPROVED,
        recipients=list(recipients),
        context=context,
        dedupe_key=f"price:{version.id}",
        entity_type="price_version",
        entity_id=version.id,
    )


__all__ = ["PRICE_APPROVED", "UNITS", "amount_text", "announce_price", "price_text"]
