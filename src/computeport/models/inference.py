"""The inference gateway's tables: deployments, their upstreams, keys, token usage, ratings.

Why these shapes (issue 13):

- a :class:`ModelDeployment` is a model name clients ask for, owned by an organisation (and
  the award whose project runs it), on an accelerator type; its OpenAI-compatible endpoints are
  :class:`ModelUpstream` rows, so an operator adds or drains one without touching the others;
- a :class:`GatewayKey` belongs to an organisation (a department) and names the application
  that uses it; only its SHA-256 is stored (the secret is shown once), revoking stamps
  ``revoked_at`` and never deletes (usage keeps pointing at the key);
- a :class:`TokenUsage` is one request as metered: who, which model, tokens in and out, latency,
  status.  Keyed by the gateway's request id (unique), so the same record ingested twice is a
  no-op.  Integer ids double as the rating cursor, as ``usage_record``'s do;
- a speech request (``/v1/audio/…``) is a :class:`TokenUsage` too, with ``audio_ms`` instead
  of tokens: one meter, one ingest, one rating cursor for every route of the gateway;
- a :class:`TokenCharge` is the rating of one record (list price, subsidy, co-payment), posted
  to the ledger in batches; invoices read these rows for their token lines.

No prompt or completion text is ever stored, anywhere (the privacy statement in docs/gateway.md).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin
from computeport.models.metering import SERIAL, ChargeKind


class ModelDeployment(IdMixin, TimestampMixin, Base):
    """A served model: the name clients send as ``model``, its owner and its accelerator."""

    __tablename__ = "model_deployment"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    """The organisation whose project serves the model (owns the deployment)."""
    award_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("award.id"), default=None)
    """The award whose GPUs run it (its Slurm job is metered like any job), if any."""
    accelerator_type: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    owned_by: Mapped[str] = mapped_column(String(100), default="computeport")
    """What ``/v1/models`` shows as ``owned_by``."""
    modality: Mapped[str] = mapped_column(String(16), default="text", server_default="text")
    """``text`` (chat, completions, embeddings) or ``speech`` (``/v1/audio/…``): which routes
    may reach it, so a transcription is never forwarded to a chat model or the reverse."""
    slurm_cluster: Mapped[str | None] = mapped_column(String(64), default=None)
    """Set when it runs as Slurm jobs on that cluster: its upstreams follow the jobs
    (:mod:`computeport.gateway.follow`); ``None``: listed by hand."""


class ModelUpstream(IdMixin, Base):
    """One OpenAI-compatible endpoint serving a deployment (its base URL, ending in ``/v1``)."""

    __tablename__ = "model_upstream"
    __table_args__ = (UniqueConstraint("deployment_id", "base_url"),)

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("model_deployment.id", ondelete="CASCADE"), index=True
    )
    base_url: Mapped[str] = mapped_column(String(300))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    site_key: Mapped[str | None] = mapped_column(String(40), default=None)
    """The inventory site (``centre_site.key``) where it runs; None: not tagged, which a
    department restricted to some sites never gets (data residency)."""


class GatewayKey(IdMixin, TimestampMixin, Base):
    """A key for one application of one organisation; only its SHA-256 is kept."""

    __tablename__ = "gateway_key"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    application: Mapped[str] = mapped_column(String(100))
    """The application within the department that uses the key (a name its admin chooses)."""
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    """None: the deployment-wide default (``Settings.gateway_key_rpm``)."""
    tokens_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class InferenceAllowance(IdMixin, TimestampMixin, Base):
    """What an award allows its organisation's keys per month and per minute, in tokens.

    One row per award that may use the gateway; an organisation's keys draw on its award in
    force.  The month is the centre's calendar month (``Settings.gateway_budget_timezone``).
    """

    __tablename__ = "inference_allowance"

    award_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("award.id"), unique=True)
    monthly_tokens: Mapped[int] = mapped_column(BigInteger)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    """Per organisation, all its keys together; None: ``Settings.gateway_org_rpm``."""
    tokens_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)


class TokenUsage(Base):
    """One request through the gateway, as metered (immutable; no text, only counts)."""

    __tablename__ = "token_usage"
    __table_args__ = (
        CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0", name="tokens_non_negative"
        ),
        Index("ix_token_usage_org_started", "organisation_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[uuid.UUID]
    award_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    key_id: Mapped[uuid.UUID]
    model: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(32))
    """``chat.completions``, ``completions``, ``embeddings``, ``audio.transcriptions`` or
    ``audio.translations``."""
    started_at: Mapped[datetime]
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    audio_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Milliseconds of audio a speech request served (0 for text): what it is billed by."""
    estimated: Mapped[bool] = mapped_column(default=False)
    """True when the upstream reported no usage and the gateway counted (client gone, or an
    upstream without ``include_usage``)."""
    streamed: Mapped[bool] = mapped_column(default=False)
    latency_ms: Mapped[int] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[int] = mapped_column(Integer)
    """The HTTP status the client got (499: the client went away mid-answer)."""
    redactions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Identifiers the gateway replaced in the prompt (its organisation's data policy): a
    count only, never what they were."""
    ingested_at: Mapped[datetime]


class TokenCharge(Base):
    """The rating of one :class:`TokenUsage` (list = subsidy + co-payment, cents)."""

    __tablename__ = "token_charge"
    __table_args__ = (
        CheckConstraint("subsidy_minor + copay_minor = list_minor", name="token_split_adds_up"),
        Index("ix_token_charge_org_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    usage_id: Mapped[int] = mapped_column(SERIAL, unique=True)
    kind: Mapped[ChargeKind]
    organisation_id: Mapped[uuid.UUID]
    award_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    model: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    audio_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Audio priced per minute (its line on the invoice reads ``audio:<model>``)."""
    list_minor: Mapped[int] = mapped_column(BigInteger)
    subsidy_minor: Mapped[int] = mapped_column(BigInteger)
    copay_minor: Mapped[int] = mapped_column(BigInteger)
    price_ref: Mapped[str] = mapped_column(String(64))
    """Which price version rated it (the rate card's id, or the named fallback)."""
    journal_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    rated_at: Mapped[datetime]


class BudgetScope(enum.StrEnum):
    """The three levels a money budget is set at (a request draws on all that are set)."""

    KEY = "key"
    APPLICATION = "application"
    DEPARTMENT = "department"


class GatewayBudget(IdMixin, TimestampMixin, Base):
    """A monthly money budget, in HK cents, for one key, application or department.

    ``subject`` names what within the organisation: the key's id (hex) for a key, the
    application's name for an application, the empty string for the department itself.  The
    month is the centre's calendar month (``Settings.gateway_budget_timezone``, Hong Kong).
    """

    __tablename__ = "gateway_budget"
    __table_args__ = (
        UniqueConstraint("organisation_id", "scope", "subject"),
        CheckConstraint("monthly_minor >= 0", name="monthly_non_negative"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    scope: Mapped[BudgetScope]
    subject: Mapped[str] = mapped_column(String(100), default="")
    monthly_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
