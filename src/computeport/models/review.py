"""Review of applications: reviewer assignments, conflict-of-interest declarations, scores.

A reviewer sees an application only after declaring (no conflict); a declared conflict recuses
them.  Scores are integers 0–10 per rubric criterion (a common panel scale: coarse enough that
reviewers agree on meanings, fine enough to rank); the weighted total uses the criteria's
Decimal weights (``computeport.review.scoring``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin


class AssignmentStatus(enum.StrEnum):
    """The assignment workflow (transition table in ``computeport.review.workflow``)."""

    AWAITING_DECLARATION = "awaiting_declaration"  # may not see the application yet
    ACTIVE = "active"  # declared no conflict: may read and score
    RECUSED = "recused"  # declared a conflict: removed from this application
    SUBMITTED = "submitted"  # scores final
    WITHDRAWN = "withdrawn"  # unassigned by the officer


class ReviewAssignment(IdMixin, TimestampMixin, Base):
    """One reviewer assigned to one application by a scheme officer."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    assigned_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[AssignmentStatus] = mapped_column(default=AssignmentStatus.AWAITING_DECLARATION)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    """The reviewer's overall remarks for the committee."""

    declaration: Mapped[ConflictDeclaration | None] = relationship(back_populates="assignment")
    scores: Mapped[list[ReviewScore]] = relationship(back_populates="assignment")


class ConflictDeclaration(IdMixin, Base):
    """A reviewer's statement on conflicts of interest for one assignment (made once)."""

    __tablename__ = "conflict_declaration"

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), unique=True
    )
    has_conflict: Mapped[bool]
    statement: Mapped[str] = mapped_column(Text, default="")
    """The nature of the conflict (or a confirmation there is none)."""
    declared_at: Mapped[datetime]

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="declaration")


SCORE_MIN = 0
SCORE_MAX = 10


class ReviewScore(IdMixin, Base):
    """A reviewer's integer score on one criterion of one application."""

    __tablename__ = "review_score"
    __table_args__ = (
        UniqueConstraint("assignment_id", "criterion_id"),
        CheckConstraint(f"score >= {SCORE_MIN} AND score <= {SCORE_MAX}", name="score_range"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rubric_criterion.id", ondelete="CASCADE")
    )
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime]

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")
