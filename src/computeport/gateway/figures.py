"""The gateway's figures for the operator and the funder, over one month.

Tokens and requests per model and per department, latency percentiles, the error rate, and the
seed's own measure: how many of the government departments (organisations of that category)
used the service in the month, as a share of all of them.  Read from ``token_usage`` (refused
requests — bad key, limits, malformed — never reach it, so the error rate is the share of
admitted requests that failed upstream, found no upstream, or were left by their client).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.identity import Organisation, OrganisationCategory, Role
from computeport.models.inference import TokenUsage

FIGURE_READERS = (Role.OPERATOR, Role.FUNDER, Role.SCHEME_OFFICER)
"""Who reads the figures: the centre's operators, the scheme officer and the funder."""


@dataclass(frozen=True, slots=True)
class Slice:
    """Requests and tokens of one model or one department."""

    name: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


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

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def government_share(self) -> float:
        return self.government_using / self.government_total if self.government_total else 0.0


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
    )
    for model, n, p, c in session.execute(
        select(TokenUsage.model, *sums).where(*in_month).group_by(TokenUsage.model)
    ):
        out.by_model.append(Slice(model, int(n), int(p), int(c)))
    names: dict[uuid.UUID, str] = {
        org: name for org, name in session.execute(select(Organisation.id, Organisation.name))
    }
    orgs: list[tuple[uuid.UUID, int, int, int]] = [
        (org, int(n), int(p), int(c))
        for org, n, p, c in session.execute(
            select(TokenUsage.organisation_id, *sums)
            .where(*in_month)
            .group_by(TokenUsage.organisation_id)
        )
    ]
    out.by_department = sorted(
        (Slice(names.get(org, str(org)), n, p, c) for org, n, p, c in orgs),
        key=lambda s: (-s.requests, s.name),
    )
    out.requests = sum(s.requests for s in out.by_model)
    out.prompt_tokens = sum(s.prompt_tokens for s in out.by_model)
    out.completion_tokens = sum(s.completion_tokens for s in out.by_model)
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
    return out


__all__ = ["FIGURE_READERS", "Figures", "Slice", "inference_figures", "percentiles"]
