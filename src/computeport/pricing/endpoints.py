"""REST endpoints of the rate card (thin: :mod:`computeport.pricing.approval` and ``card``).

Everyone signed in reads the card (applicants need the prices before they apply); operators
draft changes; scheme officers approve or reject them.  Refused input is problem+json naming
the field, and nothing is written (the request's unit of work rolls back).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.kit.clock import ensure_aware
from computeport.models.identity import Role
from computeport.pricing.approval import (
    approve_change,
    draft_change,
    get_change,
    pending_changes,
    reject_change,
)
from computeport.pricing.book import PriceBook
from computeport.pricing.card import estimate_cost, rate_card
from computeport.pricing.schemas import (
    CardLineRead,
    CostEstimateRead,
    PriceChangeIn,
    PriceChangeRead,
    PriceDecisionIn,
    PriceVersionRead,
    RateCardRead,
)

router = APIRouter(prefix="/api/v1", tags=["prices"])

CHANGE_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER)


@router.get("/prices", response_model=RateCardRead, responses={422: {}})
def get_rate_card(
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    at: Annotated[AwareDatetime | None, Query(description="ISO 8601 with a zone.")] = None,
) -> RateCardRead:
    """The rate card at ``at`` (default: now): each price in force and the next announced."""
    when = ensure_aware(at) if at is not None else clock.now()
    lines = rate_card(PriceBook.load(session), when)
    return RateCardRead(at=when, lines=[CardLineRead.of(line) for line in lines])


@router.get("/prices/versions", response_model=list[PriceVersionRead])
def get_versions(subject: CurrentSubject, session: SessionDep) -> list[PriceVersionRead]:
    """Every version ever approved or seeded: the history charges name."""
    return [PriceVersionRead.of(e) for e in PriceBook.load(session).entries()]


@router.get("/prices/estimate", response_model=CostEstimateRead, responses={404: {}, 422: {}})
def get_estimate(
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    accelerator_type: str,
    gpu_hours: Annotated[int, Query(ge=0, le=10**9)],
    subsidy_rate: Annotated[Decimal, Query(ge=0, le=1)] = Decimal("0.7"),
) -> CostEstimateRead:
    """What ``gpu_hours`` cost at today's rate card: list price, subsidy and co-payment."""
    book = PriceBook.load(session)
    found = estimate_cost(book, accelerator_type, gpu_hours, subsidy_rate, clock.now())
    return CostEstimateRead.of(found)


@router.get("/prices/changes", response_model=list[PriceChangeRead], responses={403: {}})
def get_changes(subject: CurrentSubject, session: SessionDep) -> list[PriceChangeRead]:
    """Drafted changes awaiting a decision (operators and scheme officers)."""
    subject.require(*CHANGE_READERS)
    return [PriceChangeRead.of(c) for c in pending_changes(session)]


@router.post(
    "/prices/changes",
    response_model=PriceChangeRead,
    status_code=201,
    responses={403: {}, 409: {}, 422: {}},
)
def post_change(
    body: PriceChangeIn, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> PriceChangeRead:
    """Draft a price change (an operator)."""
    return PriceChangeRead.of(draft_change(session, clock, subject, body.request()))


@router.get(
    "/prices/changes/{change_id}", response_model=PriceChangeRead, responses={403: {}, 404: {}}
)
def get_one_change(
    change_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> PriceChangeRead:
    subject.require(*CHANGE_READERS)
    return PriceChangeRead.of(get_change(session, change_id))


@router.post(
    "/prices/changes/{change_id}/approve",
    response_model=PriceVersionRead,
    responses={403: {}, 404: {}, 409: {}},
)
def post_approve(
    change_id: uuid.UUID,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    body: PriceDecisionIn | None = None,
) -> PriceVersionRead:
    """Approve a drafted change (a scheme officer who did not draft it)."""
    note = body.reason if body is not None else ""
    version = approve_change(session, clock, subject, change_id, note=note)
    entry = next(e for e in PriceBook.load(session).entries() if e.id == version.id)
    return PriceVersionRead.of(entry)


@router.post(
    "/prices/changes/{change_id}/reject",
    response_model=PriceChangeRead,
    responses={403: {}, 404: {}, 409: {}},
)
def post_reject(
    change_id: uuid.UUID,
    body: PriceDecisionIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> PriceChangeRead:
    """Reject a drafted change, saying why (a scheme officer)."""
    return PriceChangeRead.of(reject_change(session, clock, subject, change_id, reason=body.reason))


__all__ = ["router"]
