"""Request and response shapes of the award API (also the inputs the services take).

Rates travel as strings (``"0.8"``): a JSON float would have to pass through binary floating
point, and a float never becomes money or a rate here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from computeport.kit.inputs import InputModel
from computeport.kit.instants import UtcDatetime
from computeport.kit.wire import Fraction
from computeport.models.award import AmendmentKind, AwardStatus, OverCapPolicy

AcceleratorType = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", examples=["h800"])]

MAX_GPU_HOURS = 100_000_000
"""An absurdity bound per line (≈ 11,000 GPUs for a year): larger is a typo, not a request."""
MAX_CAP_MINOR = 3_000_000_000_00
"""No single cap can exceed the whole scheme's envelope (HK$3B) — a bound against typos."""


class AwardLineIn(InputModel):
    """Approved (or added) GPU-hours of one accelerator type."""

    model_config = ConfigDict(extra="forbid")

    accelerator_type: AcceleratorType
    gpu_hours: int = Field(gt=0, le=MAX_GPU_HOURS)


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError('give the rate as a string, e.g. "0.8", not a JSON number')
    return value


class DecisionIn(InputModel):
    """The committee's decision on a recommended (or not recommended) application."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=5000)
    lines: list[AwardLineIn] = Field(default_factory=list, max_length=8)
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    subsidy_rate: Fraction | None = Field(
        default=None,
        description='Share of the list price subsidised, e.g. "0.7"; scheme default if omitted',
    )
    rate_reason: str = Field(default="", max_length=5000)
    cap_minor: int | None = Field(default=None, gt=0, le=MAX_CAP_MINOR)
    terms: str = Field(default="", max_length=20000)
    over_cap_policy: OverCapPolicy = OverCapPolicy.PAY_AS_YOU_GO
    charge_reservations: bool = Field(
        default=False, description="Terms: reserved capacity is charged by reserved GPU-hours"
    )
    gpu_cap: int | None = Field(default=None, gt=0, le=100_000)
    tranche_shares_bp: list[int] = Field(
        default_factory=lambda: [10_000],
        min_length=1,
        max_length=12,
        description="Shares of the GPU-hours in basis points; first at award, k-th after report k",
    )
    report_every_months: int | None = Field(default=6, ge=1, le=36)

    _rate_not_float = field_validator("subsidy_rate", mode="before")(_no_float)


class AmendmentIn(InputModel):
    """A top-up (more GPU-hours and/or cap) or an extension (a later end date)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["top_up", "extension"]
    reason: str = Field(min_length=1, max_length=5000)
    cap_delta_minor: int = Field(default=0, ge=0, le=MAX_CAP_MINOR)
    lines: list[AwardLineIn] = Field(default_factory=list, max_length=8)
    ends_at: UtcDatetime | None = None


class TerminateIn(InputModel):
    """Early termination by the committee."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=5000)


class AwardLineRead(BaseModel):
    accelerator_type: str
    gpu_hours: int
    released_gpu_hours: int


class TrancheRead(BaseModel):
    sequence: int
    share_bp: int
    state: str
    released_at: datetime | None
    gating_report_id: uuid.UUID | None


class AwardRead(BaseModel):
    """An award as the API shows it."""

    id: uuid.UUID
    reference: str
    application_id: uuid.UUID
    scheme_id: uuid.UUID
    organisation_id: uuid.UUID
    status: AwardStatus
    starts_at: datetime
    ends_at: datetime
    subsidy_rate: Decimal
    rate_reason: str
    cap_minor: int
    committed_minor: int
    currency: str
    over_cap_policy: OverCapPolicy
    charge_reservations: bool = False
    gpu_cap: int | None
    terms: str
    slurm_account: str
    lines: list[AwardLineRead]
    tranches: list[TrancheRead]


class DecisionOut(BaseModel):
    application_id: uuid.UUID
    application_status: str
    award: AwardRead | None


class AmendmentRead(BaseModel):
    id: uuid.UUID
    award_id: uuid.UUID
    kind: AmendmentKind
    cap_delta_minor: int
    gpu_hours_delta: dict[str, int]
    previous_ends_at: datetime | None
    new_ends_at: datetime | None
    reason: str
    at: datetime


__all__ = [
    "AmendmentIn",
    "AmendmentRead",
    "AwardLineIn",
    "AwardLineRead",
    "AwardRead",
    "DecisionIn",
    "DecisionOut",
    "TerminateIn",
    "TrancheRead",
]
