"""Idempotent, batched ingest of the inference gateway's token usage into ``token_usage``.

The gateway hands metering one :class:`TokenUsageEvent` per request, as a back end hands it
accounting records, and the rules are the job records' (:mod:`computeport.metering.ingest`):

- the same event ingested again changes nothing: it is keyed by the gateway's request id
  (unique), written with insert … on conflict do nothing — so a flush retried after a crash
  between the write and the acknowledgement bills nothing twice;
- writes are set-based (:class:`~computeport.db.bulk.BulkWriter`: COPY on PostgreSQL), one
  batch per flush, never one write per request;
- the function never commits: the flusher's unit of work does.

It takes the token rating cursor's row lock first (as job ingest takes the billing lock), so
ids become visible in order and the token poster never skips a row committed late.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from computeport.db.bulk import BulkWriter
from computeport.kit.clock import Clock
from computeport.metering.cursor import lock_billing

TOKEN_CURSOR = "token_rating"  # noqa: S105 - a cursor name, not a secret
"""The ``billing_cursor`` row of token usage: its lock orders ingest and posting."""

_COLUMNS = (
    "request_id",
    "organisation_id",
    "award_id",
    "key_id",
    "model",
    "endpoint",
    "started_at",
    "prompt_tokens",
    "completion_tokens",
    "estimated",
    "streamed",
    "latency_ms",
    "ttft_ms",
    "status",
    "audio_ms",
    "redactions",
    "ingested_at",
)


@dataclass(frozen=True, slots=True)
class TokenUsageEvent:
    """One request through the gateway: counts and timings only, never text or audio."""

    request_id: str
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None
    key_id: uuid.UUID
    model: str
    endpoint: str
    started_at: datetime
    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    streamed: bool
    latency_ms: int
    ttft_ms: int | None
    status: int
    audio_ms: int = 0
    """Audio served, for the speech routes (billed per audio minute instead of tokens)."""
    redactions: int = 0
    """Identifiers replaced in the prompt under the organisation's data policy (a count)."""


def ingest_token_usage(session: Session, clock: Clock, events: Sequence[TokenUsageEvent]) -> int:
    """Store the events not stored yet (by request id); return how many were new."""
    if not events:
        return 0
    lock_billing(session, TOKEN_CURSOR)
    writer = BulkWriter(session)
    now = clock.now()
    rows = [
        (
            e.request_id,
            e.organisation_id,
            e.award_id,
            e.key_id,
            e.model,
            e.endpoint,
            e.started_at,
            max(0, e.prompt_tokens),
            max(0, e.completion_tokens),
            e.estimated,
            e.streamed,
            e.latency_ms,
            e.ttft_ms,
            e.status,
            max(0, e.audio_ms),
            e.redactions,
            now,
        )
        for e in events
    ]
    return writer.insert("token_usage", _COLUMNS, rows, conflict=("request_id",))


__all__ = ["TOKEN_CURSOR", "TokenUsageEvent", "ingest_token_usage"]
