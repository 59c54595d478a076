"""Usage records as the back ends report them, the quarantine, and their ratings (charges).

Why these shapes (DESIGN.md, "Usage records"):

- one :class:`UsageRecord` per job *allocation*, keyed by ``(cluster, job_id, submit_time)``
  because Slurm reuses job ids on requeue; raw integer GPU-seconds per accelerator type, the
  event times and ``ingested_at``.  Rows are never edited: a corrected record is a new row
  (a new ``digest`` for the same key, a higher ``id``), and its rating reverses the old one.
  The same record ingested twice hits the unique ``(key, digest)`` and changes nothing.
- :class:`UsageQuarantine` holds records that cannot be billed (unknown account, unknown
  accelerator type, negative duration, from the future) with the reason, so nothing is
  silently dropped.
- :class:`UsageCharge` is the rating sub-ledger: one signed row per rating of a record
  (``sign`` +1) or per reversal of one (``sign`` −1).  A record's current rating is the sum of
  its rows.  Each batch of ratings is posted to the general ledger as one balanced journal
  (``journal_id``), so a journal can always be drilled down to its records.

Integer primary keys here (not UUIDs) because ids double as the posting cursor: records are
rated in id order, exactly once (:class:`BillingCursor`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base

SERIAL = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit auto-increment key (SQLite only auto-increments ``INTEGER PRIMARY KEY``)."""


class UsageRecord(Base):
    """One job allocation's accounting, as ingested (immutable)."""

    __tablename__ = "usage_record"
    __table_args__ = (
        UniqueConstraint("cluster", "job_id", "submit_time", "digest"),
        CheckConstraint("gpu_seconds >= 0", name="gpu_seconds_non_negative"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(64))
    submit_time: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(16))
    """Hash of the billable content: a different digest for the same key is a correction."""
    account: Mapped[str] = mapped_column(String(64))
    """The Slurm account: an award's ``slurm_account`` or an organisation's (pay-as-you-go)."""
    user_name: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    qos: Mapped[str] = mapped_column(String(32))
    accelerator_type: Mapped[str] = mapped_column(String(32))
    gpus: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[datetime | None] = mapped_column(default=None)
    """None for a job cancelled before it started (it used nothing)."""
    end_time: Mapped[datetime]
    """The job's end: decides its billing period, its award and its price."""
    state: Mapped[str] = mapped_column(String(32))
    """Slurm's end state (``COMPLETED``, ``FAILED``, ``NODE_FAIL``, ``CANCELLED``, …)."""
    chargeable: Mapped[bool] = mapped_column(default=True)
    """False when the centre ended the job (node failure, an operator's maintenance cancel)."""
    exit_code: Mapped[int] = mapped_column(Integer, default=0)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    """Raw GPUs × elapsed seconds of this allocation on ``accelerator_type``."""
    ingested_at: Mapped[datetime]


class QuarantineReason(enum.StrEnum):
    """Why a record could not be billed."""

    UNKNOWN_ACCOUNT = "unknown_account"  # no award and no organisation has this account
    UNKNOWN_ACCELERATOR = "unknown_accelerator"  # no price list entry for this type
    NEGATIVE_DURATION = "negative_duration"  # ends before it starts, or negative GPU-seconds
    FROM_THE_FUTURE = "from_the_future"  # ends after the clock's now
    NO_PRICE = "no_price"  # the type is known but no price is in force at the job's end
    UNREADABLE = "unreadable_record"  # the back end could read only its key (detail: why)


class UsageQuarantine(Base):
    """A record held back with the reason; retried when the reason may have gone away."""

    __tablename__ = "usage_quarantine"
    __table_args__ = (UniqueConstraint("cluster", "job_id", "submit_time", "digest"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(64))
    submit_time: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(16))
    reason: Mapped[QuarantineReason]
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]]
    """The record as received (JSON), so it can be re-ingested once fixed."""
    ingested_at: Mapped[datetime]


class ChargeKind(enum.StrEnum):
    """How a record was rated."""

    SUBSIDISED = "subsidised"  # on an award, within its cap: split by the award's rate
    OVER_CAP = "over_cap"  # on an award, (partly) beyond its HK$ cap: the rest at list price
    PAYG = "payg"  # on no award: full list price to the organisation
    OUTSIDE_AWARD = "outside_award"  # award account, but the job ended outside the award dates
    CREDITED = "credited"  # node failure / maintenance cancel: not charged (shown as credited)
    REFUSED = "refused"  # beyond the cap where the award's terms refuse: not charged, reported


class UsageCharge(Base):
    """One signed rating row of one usage record (sub-ledger of the usage journals)."""

    __tablename__ = "usage_charge"
    __table_args__ = (
        CheckConstraint("sign IN (1, -1)", name="sign_unit"),
        CheckConstraint("subsidy_minor + copay_minor = list_minor", name="split_adds_up"),
        Index("ix_usage_charge_award_end", "award_id", "end_time"),
    )
    # Deliberately lean (issue 5's budget: a million rows in seconds): one index, and no
    # foreign keys — not on the denormalised award/organisation/journal copies, nor on
    # ``record_id`` (PostgreSQL checked and share-locked the record row by row: two thirds
    # of the cost of writing the rows).  They are written only by the poster, from the
    # records it has just read under the billing lock, and usage_record is append-only, so
    # a referenced record cannot go away.  Corrections, which need a lookup by record, are
    # rare and scan.

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(SERIAL)
    """The rated :class:`UsageRecord` (no foreign key: see above)."""
    sign: Mapped[int] = mapped_column(SmallInteger)
    """+1 a rating, −1 the reversal of an earlier rating of the same record."""
    kind: Mapped[ChargeKind]
    award_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organisation_id: Mapped[uuid.UUID]
    accelerator_type: Mapped[str] = mapped_column(String(32))
    cluster: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(64))
    submit_time: Mapped[datetime]
    end_time: Mapped[datetime]
    period: Mapped[str] = mapped_column(String(7))
    """UTC month of the job's end, ``YYYY-MM``: the period the charge is invoiced in."""
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    list_minor: Mapped[int] = mapped_column(BigInteger)
    """Charge at list price (× QOS multiplier), cents; 0 for credited and refused records."""
    subsidy_minor: Mapped[int] = mapped_column(BigInteger)
    copay_minor: Mapped[int] = mapped_column(BigInteger)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    """What a credited or refused record would have cost (shown, never posted)."""
    price_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    journal_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """The journal that posted this row; None when the whole batch posted nothing (all 0)."""
    rated_at: Mapped[datetime]


class BillingCursor(Base):
    """How far a sequential process got (e.g. the last usage record id rated).

    Advanced in the same transaction as the work it covers, so a crash never skips or repeats
    work; its row is also the lock that serialises ingest and posting.
    """

    __tablename__ = "billing_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
