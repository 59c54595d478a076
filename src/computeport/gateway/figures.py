"""The gateway's figures for the operator and the funder, over one month.

Tokens and requests per model and per department, latency percentiles, the error rate, and the
seed's own measure: how many of the government departments (organisations of that category)
used the service in the month, as a share of all of them — and, since transcription (issue 21),
how many used chat, transcription or both, and per department category the tokens served, the
hours of audio transcribed and the subsidy paid for each; the audio minutes served, the
spend on chat and on transcription (the month's ratings so far) and how many departments
transcribed.  Read from ``token_usage`` (refused
requests — bad key, limits, malformed — never reach it, so the error rate is the share of
admitted requests that failed upstream, found no upstream, or were left by their client).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from computeport.models.identity import Organisation, OrganisationCategory, Role
from computeport.models.inference import TokenCharge, TokenUsage

FIGURE_READERS = (Role.OPERATOR, Role.FUNDER, Role.SCHEME_OFFICER)
"""Who reads the figures: the centre's operators, the scheme officer and the funder."""


MS_PER_MINUTE = 60_000


def minutes(audio_ms: int) -> Decimal:
    """Audio milliseconds as minutes to one decimal (what the page shows)."""
    return (Decimal(audio_ms) / MS_PER_MINUTE).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Slice:
    """Requests, tokens and audio of one model or one department."""

    name: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    audio_ms: int = 0

    @property
    def audio_minutes(self) -> Decimal:
        return minutes(self.audio_ms)


@dataclass
class CategorySlice:
    """One department category's month: what it was served and the subsidy paid for it."""

    category: str
    tokens: int = 0
    audio_hours: float = 0.0
    token_subsidy_minor: int = 0
    audio_subsidy_minor: int = 0


@dataclass
class Figures:
    period: str
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: dict[str, int] = field(default_factory=dict)
    """p50, p95, p99 of the whole request (streams: to the last event)."""
    ttft_ms: dict[str, int] = field(default_factory=dict)
    by_model: list[Slice] = field(default_factory=list)
    by_department: list[Slice] = field(default_factory=list)
    government_using: int = 0
    government_total: int = 0
    government_chat: int = 0
    """Government departments that used chat (any text model) in the month."""
    government_transcription: int = 0
    government_both: int = 0
    by_category: list[CategorySlice] = field(default_factory=list)
    audio_ms: int = 0
    """Audio transcribed or translated in the month (every organisation)."""
    transcription_users: int = 0
    """Organisations of any category that transcribed in the month."""
    token_spend_minor: int = 0
    """List price of the month's chat, completions and embeddings rated so far (cents)."""
    audio_spend_minor: int = 0
    """List price of the month's audio rated so far (cents)."""

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def _of_government(self, n: int) -> float:
        return n / self.government_total if self.government_total else 0.0

    @property
    def government_share(self) -> float:
        return self._of_government(self.government_using)

    @property
    def government_chat_share(self) -> float:
        return self._of_government(self.government_chat)

    @property
    def government_transcription_share(self) -> float:
        return self._of_government(self.government_transcription)

    @property
    def government_both_share(self) -> float:
        return self._of_government(self.government_both)

    @property
    def audio_minutes(self) -> Decimal:
        return minutes(self.audio_ms)


def percentiles(values: list[int]) -> dict[str, int]:
    """Nearest-rank p50, p95, p99 of ``values`` (empty: none)."""
    if not values:
        return {}
    ordered = sorted(values)
    n = len(ordered)
    return {f"p{q}": ordered[max(0, -(-q * n // 100) - 1)] for q in (50, 95, 99)}


def inference_figures(session: Session, period: str, start: datetime, end: datetime) -> Figures:
    """The figures of the month ``[start, end)`` (named ``period``)."""
    out = Figures(period)
    in_month = (TokenUsage.started_at >= start, TokenUsage.started_at < end)
    sums = (
        func.count(),
        func.coalesce(func.sum(TokenUsage.prompt_tokens), 0),
        func.coalesce(func.sum(TokenUsage.completion_tokens), 0),
        func.coalesce(func.sum(TokenUsage.audio_ms), 0),
    )
    for model, n, p, c, a in session.execute(
        select(TokenUsage.model, *sums).where(*in_month).group_by(TokenUsage.model)
    ):
        out.by_model.append(Slice(model, int(n), int(p), int(c), int(a)))
    names: dict[uuid.UUID, str] = {
        org: name for org, name in session.execute(select(Organisation.id, Organisation.name))
    }
    orgs: list[tuple[uuid.UUID, int, int, int, int]] = [
        (org, int(n), int(p), int(c), int(a))
        for org, n, p, c, a in session.execute(
            select(TokenUsage.organisation_id, *sums)
            .where(*in_month)
            .group_by(TokenUsage.organisation_id)
        )
    ]
    out.by_department = sorted(
        (Slice(names.get(org, str(org)), n, p, c, a) for org, n, p, c, a in orgs),
        key=lambda s: (-s.requests, s.name),
    )
    out.requests = sum(s.requests for s in out.by_model)
    out.prompt_tokens = sum(s.prompt_tokens for s in out.by_model)
    out.completion_tokens = sum(s.completion_tokens for s in out.by_model)
    out.audio_ms = sum(s.audio_ms for s in out.by_model)
    out.errors = int(
        session.scalar(select(func.count()).where(*in_month, TokenUsage.status >= 400)) or 0
    )
    out.latency_ms = percentiles(
        list(session.scalars(select(TokenUsage.latency_ms).where(*in_month)))
    )
    out.ttft_ms = percentiles(
        [
            t
            for t in session.scalars(
                select(TokenUsage.ttft_ms).where(*in_month, TokenUsage.ttft_ms.is_not(None))
            )
            if t is not None
        ]
    )
    government = set(
        session.scalars(
            select(Organisation.id).where(Organisation.category == OrganisationCategory.GOVERNMENT)
        )
    )
    out.government_total = len(government)
    out.government_using = len(government & {org for org, *_ in orgs})
    chat, speech = _users_by_kind(session, in_month)
    out.government_chat = len(government & chat)
    out.government_transcription = len(government & speech)
    out.government_both = len(government & chat & speech)
    out.transcription_users = len(speech)
    out.by_category = _by_category(session, period, in_month)
    out.token_spend_minor, out.audio_spend_minor = _spend(session, period)
    return out


def _spend(session: Session, period: str) -> tuple[int, int]:
    """(chat spend, audio spend) at list price: the month's ratings so far, in cents."""
    audio = _is_audio_charge()
    spend = {False: 0, True: 0}
    for is_audio, total in session.execute(
        select(audio, func.coalesce(func.sum(TokenCharge.list_minor), 0))
        .where(TokenCharge.period == period)
        .group_by(audio)
    ):
        spend[bool(is_audio)] = int(total)
    return spend[False], spend[True]


def _is_speech() -> Any:
    return TokenUsage.endpoint.like("audio.%")


def _is_audio_charge() -> Any:
    return case((TokenCharge.audio_ms > 0, True), else_=False)


def _users_by_kind(
    session: Session, in_month: tuple[Any, ...]
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(organisations that used chat, organisations that used transcription) in the month."""
    chat: set[uuid.UUID] = set()
    speech: set[uuid.UUID] = set()
    rows = session.execute(
        select(TokenUsage.organisation_id, _is_speech()).where(*in_month).distinct()
    )
    for org, is_speech in rows:
        (speech if is_speech else chat).add(org)
    return chat, speech


def _by_category(session: Session, period: str, in_month: tuple[Any, ...]) -> list[CategorySlice]:
    """Tokens and audio hours served per organisation category (from usage), and the subsidy
    paid for each (from the month's ratings so far)."""
    slices: dict[str, CategorySlice] = {}
    served = session.execute(
        select(
            Organisation.category,
            func.coalesce(func.sum(TokenUsage.prompt_tokens + TokenUsage.completion_tokens), 0),
            func.coalesce(func.sum(TokenUsage.audio_ms), 0),
        )
        .join(Organisation, Organisation.id == TokenUsage.organisation_id)
        .where(*in_month)
        .group_by(Organisation.category)
    )
    for category, tokens, audio_ms in served:
        c = slices.setdefault(str(category), CategorySlice(str(category)))
        c.tokens, c.audio_hours = int(tokens), int(audio_ms) / 3_600_000
    audio = _is_audio_charge()
    paid = session.execute(
        select(Organisation.category, audio, func.coalesce(func.sum(TokenCharge.subsidy_minor), 0))
        .join(Organisation, Organisation.id == TokenCharge.organisation_id)
        .where(TokenCharge.period == period)
        .group_by(Organisation.category, audio)
    )
    for category, is_audio, subsidy in paid:
        c = slices.setdefault(str(category), CategorySlice(str(category)))
        if is_audio:
            c.audio_subsidy_minor = int(subsidy)
        else:
            c.token_subsidy_minor = int(subsidy)
    return sorted(slices.values(), key=lambda c: c.category)


__all__ = [
    "FIGURE_READERS",
    "CategorySlice",
    "Figures",
    "Slice",
    "inference_figures",
    "minutes",
    "percentiles",
]
