"""The gateway's queries narrowed by organisation (the house keeps tenant filters here).

Callers: the key service (an organisation's keys; a key revoked only by its own organisation
unless staff) and the key lookup (the award in force that pays for an organisation's keys).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from computeport.gateway.budgets import UsagePricer
from computeport.models.award import Award, AwardStatus
from computeport.models.data_policy import DataPolicy
from computeport.models.inference import (
    BudgetScope,
    GatewayBudget,
    GatewayKey,
    InferenceAllowance,
    TokenCharge,
    TokenUsage,
)


def keys_of(session: Session, organisation_id: uuid.UUID) -> list[GatewayKey]:
    """An organisation's keys, oldest first (revoked ones included: usage points at them)."""
    return list(
        session.scalars(
            select(GatewayKey)
            .where(GatewayKey.organisation_id == organisation_id)
            .order_by(GatewayKey.created_at, GatewayKey.id)
        )
    )


def key_of(
    session: Session, key_id: uuid.UUID, organisation_id: uuid.UUID | None
) -> GatewayKey | None:
    """The key, if it belongs to ``organisation_id`` (None: staff, any organisation's)."""
    key = session.get(GatewayKey, key_id)
    if key is None or (organisation_id is not None and key.organisation_id != organisation_id):
        return None
    return key


def award_in_force(
    session: Session, organisation_id: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, str, InferenceAllowance | None] | None:
    """The organisation's active award at ``now`` that pays for inference — one with an
    allowance first, the latest started otherwise — with its allowance."""
    row: Any = session.execute(
        select(Award.id, Award.reference, InferenceAllowance)
        .outerjoin(InferenceAllowance, InferenceAllowance.award_id == Award.id)
        .where(
            Award.organisation_id == organisation_id,
            Award.status == AwardStatus.ACTIVE,
            Award.starts_at <= now,
            Award.ends_at > now,
        )
        .order_by(InferenceAllowance.id.is_(None), Award.starts_at.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def policy_of(session: Session, organisation_id: uuid.UUID) -> DataPolicy | None:
    """The organisation's data policy; None: the defaults (no redaction, any site)."""
    return session.scalar(select(DataPolicy).where(DataPolicy.organisation_id == organisation_id))


def redactions_since(session: Session, organisation_id: uuid.UUID, start: datetime) -> int:
    """How many identifiers were redacted from the organisation's prompts since ``start``."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(TokenUsage.redactions), 0)).where(
                TokenUsage.organisation_id == organisation_id, TokenUsage.started_at >= start
            )
        )
        or 0
    )


def budgets_of_key(
    session: Session, organisation_id: uuid.UUID, key_id: uuid.UUID, application: str
) -> list[GatewayBudget]:
    """The budgets a key's requests draw on: its own, its application's, its department's."""
    return list(
        session.scalars(
            select(GatewayBudget)
            .where(
                GatewayBudget.organisation_id == organisation_id,
                or_(
                    (GatewayBudget.scope == BudgetScope.KEY)
                    & (GatewayBudget.subject == key_id.hex),
                    (GatewayBudget.scope == BudgetScope.APPLICATION)
                    & (GatewayBudget.subject == application),
                    GatewayBudget.scope == BudgetScope.DEPARTMENT,
                ),
            )
            .order_by(GatewayBudget.scope)
        )
    )


def budget_row(
    session: Session, organisation_id: uuid.UUID, scope: BudgetScope, subject: str
) -> GatewayBudget | None:
    return session.scalar(
        select(GatewayBudget).where(
            GatewayBudget.organisation_id == organisation_id,
            GatewayBudget.scope == scope,
            GatewayBudget.subject == subject,
        )
    )


def application_has_key(session: Session, organisation_id: uuid.UUID, application: str) -> bool:
    """Whether any key of the organisation (revoked ones too) is for ``application``."""
    found = session.scalar(
        select(GatewayKey.id)
        .where(GatewayKey.organisation_id == organisation_id, GatewayKey.application == application)
        .limit(1)
    )
    return found is not None


def budgets_of(session: Session, organisation_id: uuid.UUID) -> list[GatewayBudget]:
    return list(
        session.scalars(
            select(GatewayBudget)
            .where(GatewayBudget.organisation_id == organisation_id)
            .order_by(GatewayBudget.scope, GatewayBudget.subject)
        )
    )


def spent_minor(
    session: Session,
    organisation_id: uuid.UUID,
    since: datetime,
    price: UsagePricer,
    *,
    key_id: uuid.UUID | None = None,
    application: str | None = None,
) -> int:
    """Cents the organisation's requests since ``since`` cost (narrowed to one key or one
    application): rated ones at their charge, the ones not rated yet priced as they will be.

    The records not rated yet are summed in the database, grouped by model and usage:
    records of a group priced by one version of the rate card cost the same, so a group costs
    its count times one record's charge (rounded per record, as billing rounds).  Only a group
    that a price change cuts in two is priced record by record.  Why: every process reads
    this for each key every ``gateway_cache_seconds``, and at hundreds of requests a second
    the records a rating cycle has not reached yet number tens of thousands.
    """
    scope = [TokenUsage.organisation_id == organisation_id, TokenUsage.started_at >= since]
    if key_id is not None:
        scope.append(TokenUsage.key_id == key_id)
    if application is not None:
        scope.append(
            TokenUsage.key_id.in_(
                select(GatewayKey.id).where(
                    GatewayKey.organisation_id == organisation_id,
                    GatewayKey.application == application,
                )
            )
        )
    rated = session.scalar(
        select(func.coalesce(func.sum(TokenCharge.list_minor), 0))
        .join(TokenUsage, TokenUsage.id == TokenCharge.usage_id)
        .where(*scope)
    )
    unrated = [*scope, TokenCharge.id.is_(None)]
    usage = (
        TokenUsage.model,
        TokenUsage.prompt_tokens,
        TokenUsage.completion_tokens,
        TokenUsage.audio_ms,
    )
    groups = session.execute(
        select(
            *usage, func.count(), func.min(TokenUsage.started_at), func.max(TokenUsage.started_at)
        )
        .outerjoin(TokenCharge, TokenCharge.usage_id == TokenUsage.id)
        .where(*unrated)
        .group_by(*usage)
    ).all()
    total = int(rated or 0)
    for model, prompt, completion, audio_ms, count, first, last in groups:
        speech = audio_ms > 0
        if price.version(model, first, speech) == price.version(model, last, speech):
            total += count * price(model, first, prompt, completion, audio_ms)
            continue
        starts = session.scalars(
            select(TokenUsage.started_at)
            .outerjoin(TokenCharge, TokenCharge.usage_id == TokenUsage.id)
            .where(
                *unrated,
                TokenUsage.model == model,
                TokenUsage.prompt_tokens == prompt,
                TokenUsage.completion_tokens == completion,
                TokenUsage.audio_ms == audio_ms,
            )
        )
        total += sum(price(model, at, prompt, completion, audio_ms) for at in starts)
    return total


def usage_by_day_and_model(
    session: Session, organisation_id: uuid.UUID, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(UTC day, model, requests, prompt tokens, completion tokens, audio milliseconds, list,
    subsidy, co-payment) of the organisation's requests in ``[start, end)``; money from their
    ratings so far.  Chat and transcription side by side: a speech model's row has audio, a
    text model's tokens."""
    day = func.date(TokenUsage.started_at)
    rows = session.execute(
        select(
            day,
            TokenUsage.model,
            func.count(),
            func.sum(TokenUsage.prompt_tokens),
            func.sum(TokenUsage.completion_tokens),
            func.coalesce(func.sum(TokenUsage.audio_ms), 0),
            func.coalesce(func.sum(TokenCharge.list_minor), 0),
            func.coalesce(func.sum(TokenCharge.subsidy_minor), 0),
            func.coalesce(func.sum(TokenCharge.copay_minor), 0),
        )
        .outerjoin(TokenCharge, TokenCharge.usage_id == TokenUsage.id)
        .where(
            TokenUsage.organisation_id == organisation_id,
            TokenUsage.started_at >= start,
            TokenUsage.started_at < end,
        )
        .group_by(day, TokenUsage.model)
        .order_by(day, TokenUsage.model)
    ).all()
    return [tuple(r) for r in rows]


__all__ = [
    "application_has_key",
    "award_in_force",
    "budget_row",
    "budgets_of",
    "budgets_of_key",
    "key_of",
    "keys_of",
    "policy_of",
    "redactions_since",
    "spent_minor",
    "usage_by_day_and_model",
]
