"""The policy lab's saved studies: the whole answer as JSON, and its table as rows to compare.

``lab_study`` keeps what was asked (window, changes, who asked) and the full result (JSON, as
exported); ``lab_study_row`` holds one row per (scenario, grouping, group) — the side-by-side
table — so two studies can be compared with one query (same group, same scenario name).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin

__all__ = ["LabStudy", "LabStudyRow"]

SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class LabStudy(IdMixin, TimestampMixin, Base):
    """One replay study: the baseline and each change over one window."""

    __tablename__ = "lab_study"

    label: Mapped[str] = mapped_column(String(200))
    window_from: Mapped[datetime]
    window_to: Mapped[datetime]
    changes: Mapped[dict[str, Any]]
    """``{"changes": [...], "policy": {...}}``: what was asked, as given."""
    result: Mapped[dict[str, Any]]
    """The study as exported (``Study.to_dict``)."""
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )

    rows: Mapped[list[LabStudyRow]] = relationship(
        back_populates="study", order_by="LabStudyRow.id", cascade="all, delete-orphan"
    )


class LabStudyRow(Base):
    """One line of a study's side-by-side table."""

    __tablename__ = "lab_study_row"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lab_study.id", ondelete="CASCADE"), index=True
    )
    scenario: Mapped[str] = mapped_column(String(400))
    grouping: Mapped[str] = mapped_column(String(16))
    """``all``, ``category`` or ``organisation``."""
    grp: Mapped[str] = mapped_column(String(200))
    jobs: Mapped[int] = mapped_column(Integer)
    never_started: Mapped[int] = mapped_column(Integer)
    wait_mean_s: Mapped[float] = mapped_column(Float)
    wait_p50_s: Mapped[float] = mapped_column(Float)
    wait_p95_s: Mapped[float] = mapped_column(Float)
    slowdown_mean: Mapped[float] = mapped_column(Float)
    slowdown_p95: Mapped[float] = mapped_column(Float)
    utilisation: Mapped[float] = mapped_column(Float)

    study: Mapped[LabStudy] = relationship(back_populates="rows")
