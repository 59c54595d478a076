"""API shapes of invoicing: billing documents and the payments recorded against them (money as
integer cents with the currency, GPU-hours as strings)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from computeport.kit.inputs import InputModel
from computeport.kit.instants import UtcDatetime
from computeport.kit.money import MAX_AMOUNT_MINOR


class DocumentLineRead(BaseModel):
    award_reference: str
    accelerator_type: str
    jobs: int
    gpu_seconds: int
    gpu_hours: str
    list_minor: int
    subsidy_minor: int
    due_minor: int
    credited_minor: int


class DocumentRead(BaseModel):
    number: str
    kind: str
    period: str
    sequence: int
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None
    party_name: str
    issued_at: datetime
    due_at: datetime
    currency: str
    gpu_seconds: int
    list_minor: int
    subsidy_minor: int
    due_minor: int
    paid_minor: int
    outstanding_minor: int
    lines: list[DocumentLineRead]


class PaymentIn(InputModel):
    amount_minor: Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR)]
    reference: str = Field(min_length=1, max_length=100, description="The bank's reference.")
    received_at: UtcDatetime | None = None


class PaymentRead(BaseModel):
    reference: str
    number: str
    amount_minor: int
    received_at: datetime
