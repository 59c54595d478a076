"""Manual adjustments: an operator's signed correction of a receivable or of an award's subsidy.

An adjustment is money, so it is kept like the rest of the ledger: append-only (triggers in
migration ``0002_billing_adjustments``), one row per caller-supplied idempotency key, written
in the same transaction as its balanced journal (``adjustment:<key>``) and its audit row.

Which invoice shows it is a separate, also append-only fact: :class:`AdjustmentBilling` links
an adjustment to the document that billed it, written by the period close.  So "not yet
billed" is "no link row", and an adjustment can never be billed twice (the link's primary key
is the adjustment).
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class AdjustmentTarget(enum.StrEnum):
    """Which balance an adjustment moves."""

    RECEIVABLE = "receivable"  # what an organisation owes (goodwill credit, co-payment fix)
    SUBSIDY = "subsidy"  # an award's subsidy (e.g. an outage credited back to the award)


class Adjustment(IdMixin, TimestampMixin, Base):
    """One posted adjustment (immutable); ``created_at`` is when it was posted."""

    __tablename__ = "adjustment"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="amount_non_zero"),)

    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    """Supplied by the caller: the same key again returns this row instead of a second one."""
    target: Mapped[AdjustmentTarget]
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    award_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("award.id"), default=None, index=True
    )
    period: Mapped[str] = mapped_column(String(7))
    """The month it corrects (``YYYY-MM``)."""
    billing_period: Mapped[str] = mapped_column(String(7), index=True)
    """The month whose close bills it: ``period``, or the first later month still open when
    ``period`` was already closed at posting time."""
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    """Signed cents: positive raises the balance (owes more / more subsidy), negative credits."""
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    journal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal.id"))


class AdjustmentBilling(Base):
    """The document that billed an adjustment (written once, by the close of its period)."""

    __tablename__ = "adjustment_billing"

    adjustment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("adjustment.id"), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_document.id"), index=True)


APPEND_ONLY_TABLES = ("adjustment", "adjustment_billing")
