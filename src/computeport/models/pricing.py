"""The price list: HK$ per GPU-hour per accelerator type, versioned, and QOS multipliers.

Rates are :class:`~decimal.Decimal` (``Numeric(18, 8)``), never floats.  A version is in force
over the half-open interval ``[valid_from, valid_to)``; ``valid_to`` None means "until further
notice".  A usage record is rated at the version in force at the job's *end* (DESIGN.md).
The Cyberport list price is not public: seeded versions carry ``is_assumption=True``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class PriceVersion(IdMixin, TimestampMixin, Base):
    """One list price for one accelerator type over ``[valid_from, valid_to)``."""

    __tablename__ = "price_version"
    __table_args__ = (
        UniqueConstraint("accelerator_type", "valid_from"),
        CheckConstraint("price_per_gpu_hour >= 0", name="price_non_negative"),
        CheckConstraint("valid_to IS NULL OR valid_from < valid_to", name="dates_ordered"),
    )

    accelerator_type: Mapped[str] = mapped_column(String(32))
    """Lower-case type as the TRES names it, e.g. ``h800`` (``gres/gpu:h800``)."""
    price_per_gpu_hour: Mapped[Decimal]
    """List price in major units (HK$) per GPU-hour, exact."""
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    is_assumption: Mapped[bool] = mapped_column(default=False)
    """True when the price is not a published figure (the Cyberport list price is not public)."""
    note: Mapped[str] = mapped_column(Text, default="")


class QosMultiplier(IdMixin, TimestampMixin, Base):
    """A factor on the list price for a Slurm QOS (e.g. scavenger work at half price)."""

    __tablename__ = "qos_multiplier"
    __table_args__ = (CheckConstraint("multiplier >= 0", name="multiplier_non_negative"),)

    qos: Mapped[str] = mapped_column(String(32), unique=True)
    multiplier: Mapped[Decimal]
    is_assumption: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
