"""The inference gateway's token charges as invoice lines of their own.

A close covers the token charges of its period not covered by an earlier close of the same
period — ids in ``(token_charges_through of the latest document, highest token_charge.id]`` —
as it does the GPU charges, so a token rated after a close goes on the next adjustment
document, never twice and never lost.  Lines are per organisation → award → model → price
version; the line's type reads ``tokens:<model>`` (``audio:<model>`` for a speech model's
audio minutes) and its count is the requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from computeport.models.inference import TokenCharge
from computeport.models.invoicing import BillingDocument

TOKEN_TYPE_PREFIX = "tokens:"  # noqa: S105 - a line type, not a secret
AUDIO_TYPE_PREFIX = "audio:"


@dataclass(frozen=True, slots=True)
class TokenWindow:
    previous: int
    snapshot: int

    @property
    def has_new(self) -> bool:
        return self.snapshot > self.previous


@dataclass(frozen=True, slots=True)
class TokenLine:
    organisation_id: uuid.UUID
    award_id: uuid.UUID | None
    line_type: str
    requests: int
    tokens: int
    audio_ms: int
    list_minor: int
    subsidy_minor: int
    copay_minor: int
    price_version_id: uuid.UUID | None


def token_window(session: Session, period: str) -> TokenWindow:
    previous = session.scalar(
        select(func.coalesce(func.max(BillingDocument.token_charges_through), 0)).where(
            BillingDocument.period == period
        )
    )
    snapshot = session.scalar(select(func.coalesce(func.max(TokenCharge.id), 0)))
    return TokenWindow(int(previous or 0), int(snapshot or 0))


def token_lines(session: Session, period: str, window: TokenWindow) -> list[TokenLine]:
    """The window's token charges summed per organisation → award → model → price version."""
    if not window.has_new:
        return []
    prefix = case((TokenCharge.audio_ms > 0, AUDIO_TYPE_PREFIX), else_=TOKEN_TYPE_PREFIX).label(
        "prefix"
    )
    rows = session.execute(
        select(
            TokenCharge.organisation_id,
            TokenCharge.award_id,
            prefix,
            TokenCharge.model,
            TokenCharge.price_ref,
            func.count(),
            func.sum(TokenCharge.prompt_tokens + TokenCharge.completion_tokens),
            func.sum(TokenCharge.audio_ms),
            func.sum(TokenCharge.list_minor),
            func.sum(TokenCharge.subsidy_minor),
            func.sum(TokenCharge.copay_minor),
        )
        .where(
            TokenCharge.period == period,
            TokenCharge.id > window.previous,
            TokenCharge.id <= window.snapshot,
        )
        .group_by(
            TokenCharge.organisation_id,
            TokenCharge.award_id,
            prefix,
            TokenCharge.model,
            TokenCharge.price_ref,
        )
    ).all()
    return [
        TokenLine(
            org,
            award,
            (str(kind) + model)[:32],
            int(n),
            int(tokens or 0),
            int(audio or 0),
            int(lst or 0),
            int(sub or 0),
            int(cop or 0),
            _version(ref),
        )
        for org, award, kind, model, ref, n, tokens, audio, lst, sub, cop in rows
    ]


def _version(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


__all__ = [
    "AUDIO_TYPE_PREFIX",
    "TOKEN_TYPE_PREFIX",
    "TokenLine",
    "TokenWindow",
    "token_lines",
    "token_window",
]
