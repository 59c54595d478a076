"""Applications for subsidised compute, their structured compute request and attachments."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin


class ApplicationStatus(enum.StrEnum):
    """The application workflow (transition table in ``computeport.application.workflow``)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    REVISION_REQUESTED = "revision_requested"
    RECOMMENDED = "recommended"
    NOT_RECOMMENDED = "not_recommended"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Precision(enum.StrEnum):
    FP8 = "fp8"
    FP16 = "fp16"
    BF16 = "bf16"
    FP32 = "fp32"


class WorkloadKind(enum.StrEnum):
    TRAINING = "training"
    INFERENCE = "inference"
    MIXED = "mixed"


class AttachmentKind(enum.StrEnum):
    PROPOSAL = "proposal"
    BUSINESS_REGISTRATION = "business_registration"
    BUDGET = "budget"
    OTHER = "other"


class Application(IdMixin, TimestampMixin, Base):
    """A request for subsidised compute by one organisation under one scheme."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("gpus > 0", name="gpus_positive"),
        CheckConstraint("gpu_hours > 0", name="gpu_hours_positive"),
        CheckConstraint("duration_months > 0", name="duration_positive"),
    )

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    """Human reference, e.g. ``AISS-2026-0042`` (scheme code, year, sequence)."""
    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("call.id"), default=None)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[ApplicationStatus] = mapped_column(default=ApplicationStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    sector: Mapped[str] = mapped_column(String(64))

    # The structured compute request.
    accelerator_type: Mapped[str] = mapped_column(String(32))
    gpus: Mapped[int]
    gpu_hours: Mapped[int] = mapped_column(BigInteger)
    duration_months: Mapped[int]
    model_parameters: Mapped[int | None] = mapped_column(BigInteger, default=None)
    dataset_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    precision: Mapped[Precision] = mapped_column(default=Precision.BF16)
    workload: Mapped[WorkloadKind] = mapped_column(default=WorkloadKind.TRAINING)
    justification: Mapped[str] = mapped_column(Text, default="")

    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    attachments: Mapped[list[ApplicationAttachment]] = relationship(back_populates="application")


class ApplicationAttachment(IdMixin, TimestampMixin, Base):
    """A file attached to an application, stored outside the database with its checksum."""

    __tablename__ = "application_attachment"

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )

    application: Mapped[Application] = relationship(back_populates="attachments")


class ReferenceCounter(Base):
    """The last sequence number used for application references of one scheme and year.

    Locked ``FOR UPDATE`` while a reference is allocated, so concurrent drafts on PostgreSQL
    get distinct, gap-free numbers (``AISS-2026-0001``, ``-0002``, …).
    """

    __tablename__ = "application_reference_counter"

    scheme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("scheme.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
