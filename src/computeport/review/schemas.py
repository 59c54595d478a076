"""API shapes of review assignments, declarations, scores and the committee's panel."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from computeport.kit.inputs import InputModel
from computeport.models.review import SCORE_MAX, SCORE_MIN, AssignmentStatus


class AssignIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    reviewer_id: uuid.UUID


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    status: AssignmentStatus
    created_at: datetime
    submitted_at: datetime | None
    comment: str


class DeclarationIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    has_conflict: StrictBool
    statement: str = Field(default="", max_length=4000)


class ScoreItem(InputModel):
    model_config = ConfigDict(extra="forbid")

    score: Annotated[StrictInt, Field(ge=SCORE_MIN, le=SCORE_MAX)]
    comment: str = Field(default="", max_length=4000)


class ScoresIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, ScoreItem] = Field(min_length=1, max_length=50)


class ScoreRead(BaseModel):
    criterion: str
    score: int
    comment: str


class SubmitIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=20000)


class WithdrawIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class PanelCriterion(BaseModel):
    key: str
    name: str
    weight: Decimal
    mean: Decimal | None


class PanelReviewRead(BaseModel):
    assignment_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer_name: str
    status: AssignmentStatus
    conflict_statement: str | None
    scores: dict[str, int]
    weighted_total: Decimal | None
    comment: str


class PanelRead(BaseModel):
    application_id: uuid.UUID
    reference: str
    criteria: list[PanelCriterion]
    reviews: list[PanelReviewRead]
    mean_weighted_total: Decimal | None
