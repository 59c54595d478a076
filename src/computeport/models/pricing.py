"""The rate card: versioned list prices, and the drafted changes that become them once approved.

One table holds every priced thing, keyed by (kind, subject, site, cluster, valid_from):

- ``gpu_hour``: HK$ per GPU-hour of an accelerator type (``subject`` = ``h800``);
- ``qos_multiplier``: a factor on the GPU-hour price for a Slurm QOS (``subject`` = ``scavenger``);
- ``tokens``: HK$ per million input tokens (``unit_price``) and per million output tokens
  (``unit_price_output``) of an inference model (``subject`` = the model's name);
- ``audio_minute``: HK$ per minute of audio of a speech model.

``site`` and ``cluster`` narrow a price to one place; both NULL means the whole centre (every
price until the inventory names sites).  A version is in force from its ``valid_from`` until the
next version of the same key starts: no ``valid_to`` is stored, because a stored end would have to
be edited when the next version arrives, and versions are never edited — the table is append-only
(database triggers refuse UPDATE and DELETE, as on the ledger), so a charge that names a version
names a price nobody can have changed since.

A person's change starts as a :class:`PriceChange` (drafted by an operator with a reason); the
scheme officer's approval appends the :class:`PriceVersion`.  Drafts carry a status, so they are a
workflow's rows, not evidence, and may be updated.

Rates are :class:`~decimal.Decimal` (``Numeric(18, 8)``), never floats.  The Cyberport list
price is not public: seeded versions carry ``is_assumption=True``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class PriceKind(enum.StrEnum):
    """What a price is for, and so what its subject names and its unit is."""

    GPU_HOUR = "gpu_hour"
    QOS_MULTIPLIER = "qos_multiplier"
    TOKENS = "tokens"
    AUDIO_MINUTE = "audio_minute"


class PriceChangeStatus(enum.StrEnum):
    DRAFTED = "drafted"
    APPROVED = "approved"
    REJECTED = "rejected"


class PriceVersion(IdMixin, TimestampMixin, Base):
    """One price of one key, in force from ``valid_from`` until the key's next version."""

    __tablename__ = "price_version"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "site", "cluster", "valid_from"),
        CheckConstraint("unit_price >= 0", name="price_non_negative"),
        CheckConstraint(
            "unit_price_output IS NULL OR unit_price_output >= 0", name="output_non_negative"
        ),
    )

    kind: Mapped[PriceKind]
    subject: Mapped[str] = mapped_column(String(64))
    """Lower-case accelerator type as the TRES names it (``h800``), QOS name or model name."""
    site: Mapped[str | None] = mapped_column(String(64), default=None)
    cluster: Mapped[str | None] = mapped_column(String(64), default=None)
    unit_price: Mapped[Decimal]
    """HK$ per unit (GPU-hour, million input tokens, audio minute), or the QOS factor."""
    unit_price_output: Mapped[Decimal | None] = mapped_column(default=None)
    """HK$ per million output tokens (``tokens`` only)."""
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    valid_from: Mapped[datetime]
    is_assumption: Mapped[bool] = mapped_column(default=False)
    """True when the price is not a published figure (the Cyberport list price is not public)."""
    note: Mapped[str] = mapped_column(Text, default="")
    """Why the price is what it is (the draft's reason, or the seed's assumption)."""
    drafted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    change_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """The :class:`PriceChange` approved into this version (None for seeded prices)."""

    @property
    def accelerator_type(self) -> str:
        """The subject of a GPU-hour price (the name rating has always used)."""
        return self.subject


class PriceChange(IdMixin, TimestampMixin, Base):
    """A proposed price version: drafted by an operator, decided by the scheme officer."""

    __tablename__ = "price_change"
    __table_args__ = (
        CheckConstraint("unit_price > 0", name="price_positive"),
        CheckConstraint(
            "unit_price_output IS NULL OR unit_price_output > 0", name="output_positive"
        ),
    )

    kind: Mapped[PriceKind]
    subject: Mapped[str] = mapped_column(String(64))
    site: Mapped[str | None] = mapped_column(String(64), default=None)
    cluster: Mapped[str | None] = mapped_column(String(64), default=None)
    unit_price: Mapped[Decimal]
    unit_price_output: Mapped[Decimal | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    valid_from: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[PriceChangeStatus] = mapped_column(default=PriceChangeStatus.DRAFTED)
    drafted_by: Mapped[uuid.UUID]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


__all__ = ["PriceChange", "PriceChangeStatus", "PriceKind", "PriceVersion"]
