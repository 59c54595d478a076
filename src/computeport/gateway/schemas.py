"""Request and response bodies of the gateway's management API (keys, deployments, usage)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from computeport.models.inference import BudgetScope


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


class UpstreamIn(BaseModel):
    """An upstream at a site of its own (a model served at several sites)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=300)
    site: str = Field(min_length=1, max_length=40)


class DeploymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None = None
    accelerator_type: str = Field(min_length=1, max_length=32)
    upstreams: list[str | UpstreamIn] = Field(min_length=1, max_length=64)
    modality: Literal["text", "speech"] = "text"
    """``speech``: a transcription model, reached by ``/v1/audio/…`` only."""
    site: str | None = Field(default=None, min_length=1, max_length=40)
    """The inventory site of the upstreams given as plain URLs (data residency)."""


class DeploymentRead(BaseModel):
    id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None
    accelerator_type: str
    upstreams: list[str]
    modality: str
    sites: dict[str, str | None] = Field(default_factory=dict)
    """Each upstream's site key (None: not tagged, never serves a site-restricted department)."""


class UpstreamSitesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sites: dict[str, str | None] = Field(min_length=1, max_length=64)
    """Upstream URL → inventory site key (null: not tagged)."""


class DataPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redact: bool = False
    """Replace HKID numbers, phone numbers and e-mail addresses in prompts."""
    allowed_sites: list[str] | None = Field(default=None, min_length=1, max_length=32)
    """Inventory site keys whose deployments may serve the organisation; null: any site."""


class DataPolicyRead(DataPolicyIn):
    organisation_id: uuid.UUID


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
    audio_seconds: float = 0.0


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
    audio_seconds: float = 0.0
    """Audio transcribed or translated in the month (every organisation)."""
    transcription_organisations: int = 0
    """Organisations of any category that transcribed in the month."""
    token_spend_minor: int = 0
    """List price of the month's chat, completions and embeddings rated so far (cents)."""
    audio_spend_minor: int = 0
    """List price of the month's audio rated so far (cents)."""


class AllowanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monthly_tokens: int = Field(ge=0)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)


class AllowanceRead(AllowanceIn):
    award_id: uuid.UUID


class BudgetIn(BaseModel):
    """A monthly money budget for a key, an application or a department (None: remove it)."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID
    scope: BudgetScope
    key_id: uuid.UUID | None = None
    application: str | None = Field(default=None, min_length=1, max_length=100)
    monthly_minor: int | None = Field(ge=0, description="HK cents per calendar month (HKT).")


class BudgetLineRead(BaseModel):
    id: uuid.UUID
    scope: BudgetScope
    subject: str
    """The key's id (hex), the application's name, or empty for the department."""
    monthly_minor: int
    spent_minor: int
    left_minor: int


class BudgetsRead(BaseModel):
    organisation_id: uuid.UUID
    currency: str = "HKD"
    period: str
    """The budget period in force: ``YYYY-MM`` in Hong Kong time."""
    period_rule: str
    period_starts_at: datetime
    resets_at: datetime
    budgets: list[BudgetLineRead]
