"""Billing documents issued at period close, their lines, payments, and credit holds.

One table for every document kind (invoice, credit note, subsidy statement) because they are
the same shape: a numbered, dated, immutable set of lines for one party and one UTC month.
A closed period is never rewritten: charges that reach it later produce an adjustment
document (a credit note, or a supplementary invoice) with the next ``sequence``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin

if TYPE_CHECKING:
    from computeport.models.pricing import PriceVersion


class DocumentKind(enum.StrEnum):
    """What a document is."""

    INVOICE = "invoice"  # co-payment (and pay-as-you-go) owed by an organisation
    CREDIT_NOTE = "credit_note"  # a later correction that lowers what an organisation owes
    SUBSIDY_STATEMENT = "subsidy_statement"  # subsidy of one award, for the funder


class BillingDocument(IdMixin, TimestampMixin, Base):
    """An issued document (immutable)."""

    __tablename__ = "billing_document"
    __table_args__ = (
        UniqueConstraint("kind", "party_key", "period", "sequence"),
        CheckConstraint("list_minor = subsidy_minor + due_minor", name="totals_add_up"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    """``INV-2026-10-0001``, ``CN-2026-10-0001``, ``SUB-2026-10-0001``."""
    kind: Mapped[DocumentKind]
    period: Mapped[str] = mapped_column(String(7))
    sequence: Mapped[int] = mapped_column(Integer)
    """0 for the document of the period's close; 1, 2, … for later adjustments."""
    party_key: Mapped[str] = mapped_column(String(64))
    """The organisation id (invoices, credit notes) or the award id (statements), as text."""
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    award_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("award.id"), default=None)
    party_name: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime]
    due_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    list_minor: Mapped[int] = mapped_column(BigInteger)
    subsidy_minor: Mapped[int] = mapped_column(BigInteger)
    due_minor: Mapped[int] = mapped_column(BigInteger)
    """What the organisation owes (invoice; negative on a credit note); for a statement, 0."""
    charges_through: Mapped[int] = mapped_column(BigInteger)
    """The last ``usage_charge.id`` this document (and the ones before it) covers."""
    token_charges_through: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The same for the inference gateway's ``token_charge`` rows."""
    sha256: Mapped[str] = mapped_column(String(64))
    """Hash of the rendered CSV: a re-render must reproduce it byte for byte."""

    lines: Mapped[list[DocumentLine]] = relationship(order_by="DocumentLine.position")


class DocumentLine(IdMixin, Base):
    """One line: an award (or pay-as-you-go) and an accelerator type."""

    __tablename__ = "document_line"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_document.id"))
    position: Mapped[int] = mapped_column(Integer)
    award_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    award_reference: Mapped[str] = mapped_column(String(40))
    """The award's reference, or ``pay-as-you-go``."""
    accelerator_type: Mapped[str] = mapped_column(String(32))
    site: Mapped[str | None] = mapped_column(String(40), default=None)
    """The inventory's site of the clusters that ran the line's jobs (one line per site and
    type); None where the cluster is not in an inventory, on adjustment and token lines, and
    on lines issued before sites (their documents keep their layout and hash)."""
    jobs: Mapped[int] = mapped_column(Integer)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    list_minor: Mapped[int] = mapped_column(BigInteger)
    subsidy_minor: Mapped[int] = mapped_column(BigInteger)
    due_minor: Mapped[int] = mapped_column(BigInteger)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    """List value of jobs not charged (node failure, maintenance, refused)."""
    price_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """The rate card's version that rated the line's charges: a price change within the month
    splits a party's usage into one line per version.  None on adjustment lines (and on lines
    issued before the rate card)."""
    unit_price: Mapped[Decimal | None] = mapped_column(default=None)
    """That version's list price (HK$ per GPU-hour), as issued."""
    price_from: Mapped[datetime | None] = mapped_column(default=None)
    """That version's start, as issued."""
    price_version: Mapped[PriceVersion | None] = relationship(
        primaryjoin="foreign(DocumentLine.price_version_id) == PriceVersion.id", viewonly=True
    )
    """The version itself, read for where it applies (its site and cluster): versions are never
    edited, so what it says now is what it said when the line was issued."""


class Payment(IdMixin, TimestampMixin, Base):
    """Money received against an invoice; ``reference`` (bank reference) makes it idempotent."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    reference: Mapped[str] = mapped_column(String(100), unique=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_document.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    received_at: Mapped[datetime]
    journal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal.id"))


class CreditHoldEvent(IdMixin, TimestampMixin, Base):
    """An award suspended for an overdue co-payment (``placed``) or reinstated (``lifted``).

    Append-only history, so credit control can lift exactly the suspensions it placed.
    """

    __tablename__ = "credit_hold_event"

    award_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("award.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    action: Mapped[str] = mapped_column(String(8))
    """``placed`` or ``lifted``."""
    reason: Mapped[str] = mapped_column(String(300))


# Append-only in the database too (triggers in the Alembic migration 0001).
APPEND_ONLY_TABLES = ("billing_document", "document_line", "payment", "credit_hold_event")
