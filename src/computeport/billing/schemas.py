"""API shapes of billing: money as integer cents with the currency, GPU-hours as strings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from computeport.kit.inputs import InputModel
from computeport.kit.money import MAX_AMOUNT_MINOR
from computeport.models.adjustment import AdjustmentTarget


class UsageRead(BaseModel):
    """One rating row: a job's charge (sign 1) or the reversal of an earlier one (sign −1)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    record_id: int
    sign: int
    kind: str
    cluster: str
    job_id: str
    accelerator_type: str
    end_time: datetime
    period: str
    award_id: uuid.UUID | None
    organisation_id: uuid.UUID
    gpu_seconds: int
    list_minor: int
    subsidy_minor: int
    copay_minor: int
    credited_minor: int


class BalanceRead(BaseModel):
    code: str
    kind: str
    name: str
    balance_minor: int


class AcceleratorBurnRead(BaseModel):
    accelerator_type: str
    awarded_gpu_hours: int
    used_gpu_hours: str
    runs_out_at: datetime | None


class BurnDownRead(BaseModel):
    award_id: uuid.UUID
    reference: str
    cap_minor: int
    consumed_minor: int
    percent_used: str
    list_minor: int
    copay_minor: int
    subsidy_per_day_minor: int
    runs_out_at: datetime | None
    by_accelerator: list[AcceleratorBurnRead]


class AdjustmentIn(InputModel):
    """An operator's adjustment: signed cents, a reason, and the caller's idempotency key.

    ``receivable`` names the organisation (an award optionally, for the record); ``subsidy``
    names the award (its organisation follows).
    """

    model_config = ConfigDict(extra="forbid")

    target: AdjustmentTarget
    amount_minor: Annotated[
        StrictInt,
        Field(
            ge=-MAX_AMOUNT_MINOR,
            le=MAX_AMOUNT_MINOR,
            json_schema_extra={"not": {"const": 0}},  # zero changes nothing: refused
        ),
    ]
    period: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])
    reason: str = Field(min_length=1, max_length=2000)
    idempotency_key: str = Field(min_length=1, max_length=100)
    organisation_id: uuid.UUID | None = None
    award_id: uuid.UUID | None = None


class AdjustmentRead(BaseModel):
    id: uuid.UUID
    idempotency_key: str
    target: str
    organisation_id: uuid.UUID
    organisation_name: str
    award_id: uuid.UUID | None
    award_reference: str | None
    period: str
    billing_period: str
    """The month whose close bills it (a later one when ``period`` was already closed)."""
    amount_minor: int
    currency: str
    reason: str
    actor_id: uuid.UUID | None
    created_at: datetime
    journal_id: uuid.UUID
    document_number: str | None
    """The invoice or statement that billed it; None until its billing month closes."""
