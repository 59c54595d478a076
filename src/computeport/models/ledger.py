"""The double-entry ledger: accounts, journals and postings (append-only).

Invariants (DESIGN.md, "Ledger"): a journal has at least two postings whose signed amounts
sum to zero (debits positive, credits negative), all in one currency; it is written in one
transaction and carries a unique ``idempotency_key`` derived from its source (a usage record
range, an envelope movement, a payment reference, a period close).  Nothing is ever updated
or deleted — corrections are reversing journals.  :mod:`computeport.ledger.journal` checks
the sums before anything is written; the database refuses UPDATE and DELETE on both tables
(triggers) and, on PostgreSQL, a deferred constraint trigger re-checks every journal's sum at
commit.  A balance is always the sum of an account's postings.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin
from computeport.models.metering import SERIAL


class AccountKind(enum.StrEnum):
    """The chart of accounts (one account per kind and owner)."""

    ENVELOPE_AVAILABLE = "envelope_available"  # per scheme: the envelope not yet committed
    ENVELOPE_COMMITTED = "envelope_committed"  # per award: committed and not yet consumed
    ENVELOPE_CONSUMED = "envelope_consumed"  # per award: subsidy consumed by usage
    SUBSIDY_RECEIVABLE = "subsidy_receivable"  # per award: subsidy the funder owes the centre
    RECEIVABLE = "receivable"  # per organisation: co-payment and pay-as-you-go owed
    REVENUE = "revenue"  # the centre's GPU revenue (list price)
    CASH = "cash"  # money received


class JournalKind(enum.StrEnum):
    """What a journal records."""

    USAGE = "usage"  # ratings (and re-ratings) of a range of usage records
    ENVELOPE = "envelope"  # an award's commitment moved
    PAYMENT = "payment"  # an organisation paid
    SUBSIDY_PAYMENT = "subsidy_payment"  # the funder paid a subsidy statement
    REVERSAL = "reversal"  # reverses another journal
    ADJUSTMENT = "adjustment"  # an operator's manual adjustment (billing.adjustments)


class LedgerAccount(IdMixin, TimestampMixin, Base):
    """An account; its balance is the sum of its postings (debit positive)."""

    __tablename__ = "ledger_account"

    code: Mapped[str] = mapped_column(String(160), unique=True)
    """Readable and stable, e.g. ``receivable:<organisation id>`` or ``revenue:gpu``."""
    kind: Mapped[AccountKind] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    scheme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scheme.id"), default=None)
    award_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("award.id"), default=None, index=True
    )
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id"), default=None, index=True
    )


class LedgerJournal(IdMixin, TimestampMixin, Base):
    """A balanced set of postings written at once."""

    __tablename__ = "journal"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[JournalKind]
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    """When the business event happened (e.g. the payment's date); ``created_at`` is when
    it was written."""
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal.id"), default=None)


class Posting(Base):
    """One signed amount on one account within a journal."""

    __tablename__ = "posting"
    __table_args__ = (Index("ix_posting_account", "account_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    journal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_account.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    """Signed cents: debit positive, credit negative."""
    currency: Mapped[str] = mapped_column(String(3), default="HKD")


# The database-level guards of these tables (append-only triggers on both engines, and on
# PostgreSQL a deferred trigger that re-checks at commit that every journal balances) live in the
# Alembic migration ``0001``: every database, the tests' included, is built by the migrations.
APPEND_ONLY_TABLES = ("usage_record", "usage_charge", "journal", "posting")
