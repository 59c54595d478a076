"""API shapes of applications, their transitions, attachments and GPU-hour estimates."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from computeport.application.estimator import DEFAULT_UTILISATION, MIN_UTILISATION, Estimate
from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES
from computeport.kit.inputs import InputModel
from computeport.kit.wire import not_nullable
from computeport.models.application import (
    ApplicationStatus,
    AttachmentKind,
    Precision,
    WorkloadKind,
)


def _known_accelerator(value: str) -> str:
    if value not in KNOWN_ACCELERATOR_TYPES:
        known = ", ".join(sorted(KNOWN_ACCELERATOR_TYPES))
        raise ValueError(f"unknown accelerator type {value!r}; known: {known}")
    return value


AcceleratorType = Annotated[
    str,
    AfterValidator(_known_accelerator),
    Field(json_schema_extra={"enum": sorted(KNOWN_ACCELERATOR_TYPES)}),  # documented as checked
]
Gpus = Annotated[StrictInt, Field(ge=1, le=100_000)]
GpuHours = Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
Months = Annotated[StrictInt, Field(ge=1, le=60)]
Parameters = Annotated[StrictInt, Field(ge=1, le=10**14)]
Tokens = Annotated[StrictInt, Field(ge=1, le=10**16)]


class ApplicationCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    scheme_id: uuid.UUID
    organisation_id: uuid.UUID
    call_id: uuid.UUID | None = None
    title: str = Field(min_length=1, max_length=300)
    abstract: str = Field(default="", max_length=20000)
    sector: str = Field(min_length=1, max_length=64)
    accelerator_type: AcceleratorType
    gpus: Gpus
    gpu_hours: GpuHours
    duration_months: Months
    model_parameters: Parameters | None = None
    dataset_tokens: Tokens | None = None
    precision: Precision = Precision.BF16
    workload: WorkloadKind = WorkloadKind.TRAINING
    justification: str = Field(default="", max_length=20000)


NOT_NULL_UPDATES = (
    "title",
    "abstract",
    "sector",
    "accelerator_type",
    "gpus",
    "gpu_hours",
    "duration_months",
    "precision",
    "workload",
    "justification",
)
"""Fields an update may omit but not set to ``null`` (``service.NOT_NULL_FIELDS``)."""


class ApplicationUpdate(InputModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=not_nullable(*NOT_NULL_UPDATES))

    call_id: uuid.UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    abstract: str | None = Field(default=None, max_length=20000)
    sector: str | None = Field(default=None, min_length=1, max_length=64)
    accelerator_type: AcceleratorType | None = None
    gpus: Gpus | None = None
    gpu_hours: GpuHours | None = None
    duration_months: Months | None = None
    model_parameters: Parameters | None = None
    dataset_tokens: Tokens | None = None
    precision: Precision | None = None
    workload: WorkloadKind | None = None
    justification: str | None = Field(default=None, max_length=20000)


class EstimateRead(BaseModel):
    flops: int
    accelerator_type: str
    precision: str
    peak_tflops: Decimal
    utilisation: Decimal
    gpu_hours: int
    gpu_hours_exact: Decimal
    assumption: str
    requested_to_estimate: Decimal | None = Field(
        default=None, description="Requested GPU-hours ÷ estimate (≈1 is reasonable)."
    )

    @classmethod
    def of(cls, e: Estimate, requested: int | None = None) -> EstimateRead:
        ratio = None
        if requested is not None and e.gpu_hours > 0:
            ratio = (Decimal(requested) / Decimal(e.gpu_hours)).quantize(Decimal("0.01"))
        return cls(
            flops=e.flops,
            accelerator_type=e.accelerator_type,
            precision=e.precision,
            peak_tflops=e.peak_tflops,
            utilisation=e.utilisation,
            gpu_hours=e.gpu_hours,
            gpu_hours_exact=e.gpu_hours_exact,
            assumption=e.assumption,
            requested_to_estimate=ratio,
        )


class ApplicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    scheme_id: uuid.UUID
    call_id: uuid.UUID | None
    organisation_id: uuid.UUID
    status: ApplicationStatus
    title: str
    abstract: str
    sector: str
    accelerator_type: str
    gpus: int
    gpu_hours: int
    duration_months: int
    model_parameters: int | None
    dataset_tokens: int | None
    precision: Precision
    workload: WorkloadKind
    justification: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    estimate: EstimateRead | None = None


class TransitionIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    to: ApplicationStatus
    reason: str = Field(default="", max_length=4000)


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_state: str | None
    to_state: str | None
    actor_id: uuid.UUID | None
    reason: str
    at: datetime


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: AttachmentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class EstimateQuery(InputModel):
    model_config = ConfigDict(extra="forbid")

    model_parameters: Annotated[int, Field(ge=1, le=10**14)]
    tokens: Annotated[int, Field(ge=1, le=10**16)]
    precision: Precision = Precision.BF16
    accelerator_type: AcceleratorType = "h800"
    utilisation: Decimal = Field(default=DEFAULT_UTILISATION, ge=MIN_UTILISATION, le=1)
    workload: WorkloadKind = WorkloadKind.TRAINING
