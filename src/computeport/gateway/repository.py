"""The gateway's queries narrowed by organisation (the house keeps tenant filters here).

Callers: the key service (an organisation's keys; a key revoked only by its own organisation
unless staff) and the key lookup (the award in force that pays for an organisation's keys).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.award import Award, AwardStatus
from computeport.models.inference import GatewayKey, InferenceAllowance, TokenCharge, TokenUsage


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


__all__ = ["award_in_force", "key_of", "keys_of", "usage_by_day_and_model"]
