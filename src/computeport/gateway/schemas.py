"""Request and response bodies of the gateway's management API (keys, deployments, usage)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID
    application: str = Field(min_length=1, max_length=100)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)


class KeyRead(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    application: str
    prefix: str
    requests_per_minute: int | None
    tokens_per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(KeyRead):
    key: str
    """The key itself: shown in this answer only, never again."""


class DeploymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None = None
    accelerator_type: str = Field(min_length=1, max_length=32)
    upstreams: list[str] = Field(min_length=1, max_length=64)
    modality: Literal["text", "speech"] = "text"
    """``speech``: a transcription model, reached by ``/v1/audio/…`` only."""


class DeploymentRead(BaseModel):
    id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None
    accelerator_type: str
    upstreams: list[str]
    modality: str


class UsageRow(BaseModel):
    day: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    audio_seconds: float
    """Audio transcribed or translated (speech models; 0 for text models)."""
    list_minor: int
    subsidy_minor: int
    copay_minor: int


class SliceRead(BaseModel):
    name: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


class CategoryFiguresRead(BaseModel):
    """One organisation category's month: tokens served, audio hours transcribed, and the
    subsidy paid (HK$ cents) for each."""

    category: str
    tokens: int
    audio_hours: float
    token_subsidy_minor: int
    audio_subsidy_minor: int


class FiguresRead(BaseModel):
    period: str
    requests: int
    errors: int
    error_rate: float
    prompt_tokens: int
    completion_tokens: int
    latency_ms: dict[str, int]
    ttft_ms: dict[str, int]
    by_model: list[SliceRead]
    by_department: list[SliceRead]
    government_using: int
    government_total: int
    government_share: float
    """Government departments that used the service in the month, over all of them."""
    government_chat_share: float
    """… that used chat (a text model), over all government departments."""
    government_transcription_share: float
    government_both_share: float
    """… that used both chat and transcription."""
    by_category: list[CategoryFiguresRead]


class AllowanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monthly_tokens: int = Field(ge=0)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)


class AllowanceRead(AllowanceIn):
    award_id: uuid.UUID
