"""The subsidy scheme: its envelope, rates, rubric, and the calls (rounds) that take applications.

The envelope is the scheme's fixed HK$ budget; awards commit their subsidy caps against it
(``award.committed_minor``) and the sum of commitments may never exceed ``envelope_minor``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin


class Scheme(IdMixin, TimestampMixin, Base):
    """A subsidy programme such as the HK$3B AI Subsidy Scheme (AISS)."""

    __tablename__ = "scheme"
    __table_args__ = (
        CheckConstraint("envelope_minor >= 0", name="envelope_non_negative"),
        CheckConstraint("default_rate <= max_rate", name="default_within_max"),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    """Prefix of application references, e.g. ``AISS`` → ``AISS-2026-0042``."""
    name: Mapped[str] = mapped_column(String(200))
    envelope_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    default_rate: Mapped[Decimal]
    max_rate: Mapped[Decimal]
    eligible_categories: Mapped[list[str]]
    notes: Mapped[str] = mapped_column(Text, default="")

    criteria: Mapped[list[RubricCriterion]] = relationship(
        back_populates="scheme", order_by="RubricCriterion.position"
    )
    calls: Mapped[list[Call]] = relationship(back_populates="scheme")


class RubricCriterion(IdMixin, Base):
    """A weighted review criterion; a scheme's weights sum to exactly 1."""

    __tablename__ = "rubric_criterion"
    __table_args__ = (UniqueConstraint("scheme_id", "key"),)

    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[Decimal]
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    is_assumption: Mapped[bool] = mapped_column(default=False)
    """True where the public sources do not give this criterion or weight."""

    scheme: Mapped[Scheme] = relationship(back_populates="criteria")


class Call(IdMixin, TimestampMixin, Base):
    """A call for applications (a round), or a rolling batch with no closing date."""

    __tablename__ = "call"
    __table_args__ = (UniqueConstraint("scheme_id", "name"),)

    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    """None for a rolling call (applications accepted in batches until closed)."""

    scheme: Mapped[Scheme] = relationship(back_populates="calls")
