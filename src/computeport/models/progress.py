"""Progress reports and tranches: how an award's GPU-hours are released over time.

The committee's terms of reference include considering progress reports from approved
applicants.  An award may release its GPU-hours in tranches (e.g. half at award, half after
an accepted progress report); a report that is overdue holds the tranche it gates.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class ReportStatus(enum.StrEnum):
    """A progress report's workflow (transition table in ``computeport.progress.workflow``).

    "Overdue" is not a stored state: a report is overdue while it is SCHEDULED or QUERIED
    and its due date has passed, so the state can never drift from the clock.
    """

    SCHEDULED = "scheduled"  # expected by due_at, not yet filed
    SUBMITTED = "submitted"  # filed by the applicant, awaiting the committee
    ACCEPTED = "accepted"  # accepted by the committee; releases the tranche it gates
    QUERIED = "queried"  # the committee asked for more; the applicant files again


class ProgressReport(IdMixin, TimestampMixin, Base):
    """One scheduled progress report of an award, with the outputs it declares."""

    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint("award_id", "sequence"),
        CheckConstraint(
            "models_released >= 0 AND papers >= 0 AND products >= 0 AND jobs_created >= 0",
            name="outputs_non_negative",
        ),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int]
    """1, 2, … in due-date order."""
    due_at: Mapped[datetime]
    status: Mapped[ReportStatus] = mapped_column(default=ReportStatus.SCHEDULED, index=True)
    # Outputs the applicant declares (cumulative since the award).
    models_released: Mapped[int] = mapped_column(default=0)
    papers: Mapped[int] = mapped_column(default=0)
    products: Mapped[int] = mapped_column(default=0)
    jobs_created: Mapped[int] = mapped_column(default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    committee_note: Mapped[str] = mapped_column(Text, default="")


class AwardTranche(IdMixin, Base):
    """A share of an award's GPU-hours released at award or after an accepted report.

    Shares are integer basis points (1/10,000); an award's tranches sum to exactly 10,000 and
    GPU-hours are split with the largest-remainder method, so released hours add up exactly.
    """

    __tablename__ = "award_tranche"
    __table_args__ = (
        UniqueConstraint("award_id", "sequence"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_in_range"),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int]
    """0 is released at award; tranche k ≥ 1 is gated by progress report k."""
    share_bp: Mapped[int] = mapped_column(BigInteger)
    gating_report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("progress_report.id", ondelete="SET NULL"), default=None
    )
    released_at: Mapped[datetime | None] = mapped_column(default=None)
