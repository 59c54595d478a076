"""Token usage for gateway, billing and invoicing tests: a department with an award, a token
price on the rate card, and one request's usage event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import TokenUsageEvent
from computeport.models.identity import OrganisationCategory
from computeport.pricing.service import set_audio_price, set_token_price
from tests.factories import award as award_factory
from tests.factories import identity as identity_factory

EPOCH = datetime(2024, 10, 1, tzinfo=UTC)


def card(session: Session, clock: ManualClock, model: str = "smollm2") -> None:
    """HK$2 in, HK$6 out per million tokens on the rate card (in force since the epoch)."""
    set_token_price(session, clock, model, Decimal("2.00"), Decimal("6.00"), EPOCH)


def audio_card(session: Session, clock: ManualClock, model: str = "whisper-1") -> None:
    """HK$0.60 per audio minute on the rate card (in force since the epoch)."""
    set_audio_price(session, clock, model, Decimal("0.60"), EPOCH)


def audio_event(
    org: uuid.UUID, award: uuid.UUID | None, audio_ms: int, **kw: object
) -> TokenUsageEvent:
    """One transcription's usage: no tokens, ``audio_ms`` of audio."""
    fields: dict[str, object] = {
        "model": "whisper-1",
        "endpoint": "audio.transcriptions",
        "audio_ms": audio_ms,
    }
    return event(org, award, 0, 0, **{**fields, **kw})


def event(
    org: uuid.UUID, award: uuid.UUID | None, prompt: int, completion: int, **kw: object
) -> TokenUsageEvent:
    base: dict[str, object] = {
        "request_id": uuid.uuid4().hex,
        "organisation_id": org,
        "award_id": award,
        "key_id": uuid.uuid4(),
        "model": "smollm2",
        "endpoint": "chat.completions",
        "started_at": datetime(2026, 10, 1, 8, tzinfo=UTC),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "estimated": False,
        "streamed": False,
        "latency_ms": 12,
        "ttft_ms": None,
        "status": 200,
    }
    base.update(kw)
    return TokenUsageEvent(**base)  # type: ignore[arg-type]


def department(
    session: Session, clock: ManualClock, rate: str, cap_minor: int = 100_000_000
) -> tuple[uuid.UUID, uuid.UUID]:
    org = identity_factory.organisation(session, category=OrganisationCategory.GOVERNMENT)
    sch = award_factory.scheme(session)
    a = award_factory.award(
        session, clock, sch, org, f"acct-{org.id.hex[-12:]}", rate=rate, cap_minor=cap_minor
    )
    return org.id, a.id
