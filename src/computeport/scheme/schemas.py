"""API shapes of schemes, rubrics and calls."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from computeport.kit.inputs import InputModel
from computeport.kit.instants import UtcDatetime
from computeport.kit.wire import Fraction
from computeport.models.identity import OrganisationCategory


class CriterionIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=200)
    weight: Fraction = Field(
        description='A fraction as a string: "0.25" is 25%. All weights sum to exactly 1.'
    )
    description: str = Field(default="", max_length=4000)
    is_assumption: bool = False


class CriterionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    name: str
    weight: Decimal
    description: str
    position: int
    is_assumption: bool


class SchemeCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$", examples=["AISS"])
    name: str = Field(min_length=1, max_length=200)
    envelope_minor: StrictInt = Field(ge=0, le=10**15, description="In minor units (cents).")
    currency: str = Field(default="HKD", pattern=r"^[A-Z]{3}$")
    period_start: UtcDatetime
    period_end: UtcDatetime
    default_rate: Fraction = Decimal("0.70")
    max_rate: Fraction = Decimal("0.90")
    eligible_categories: list[OrganisationCategory] = Field(min_length=1)
    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)
    notes: str = Field(default="", max_length=10000)


class SchemeUpdate(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    envelope_minor: StrictInt | None = Field(default=None, ge=0, le=10**15)
    period_start: UtcDatetime | None = None
    period_end: UtcDatetime | None = None
    default_rate: Fraction | None = None
    max_rate: Fraction | None = None
    eligible_categories: list[OrganisationCategory] | None = Field(default=None, min_length=1)
    notes: str | None = Field(default=None, max_length=10000)


class RubricIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)


class SchemeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    envelope_minor: int
    currency: str
    period_start: datetime
    period_end: datetime
    default_rate: Decimal
    max_rate: Decimal
    eligible_categories: list[str]
    notes: str
    criteria: list[CriterionRead]


class CallCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    opens_at: UtcDatetime
    closes_at: UtcDatetime | None = Field(
        default=None, description="Omit for a rolling call (open until closed)."
    )


class CallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    scheme_id: uuid.UUID
    name: str
    opens_at: datetime
    closes_at: datetime | None
    open_now: bool = False
