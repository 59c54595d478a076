"""REST endpoints of billing (thin: services decide; organisations see only their own rows).

- ``GET /api/v1/usage``: rating rows (charges and reversals) of the caller's organisations;
- ``GET /api/v1/ledger/balances``: staff only;
- ``GET /api/v1/awards/{award_id}/burndown``: the award's organisation or staff;
- ``POST /api/v1/adjustments``: an operator's manual adjustment (201; the same idempotency key
  again is 200 with the adjustment already made, other content under that key 409);
  ``GET /api/v1/adjustments``: staff who read the ledger.

The invoice routes (documents and their payments) are invoicing's
(:mod:`computeport.invoicing.endpoints`): invoicing sits above billing.

Another organisation's award is a 404, never a 403: its existence is not shown.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from computeport.award.repository import ensure_readable
from computeport.billing import adjustments
from computeport.billing.burndown import award_burn_down
from computeport.billing.schemas import (
    AcceleratorBurnRead,
    AdjustmentIn,
    AdjustmentRead,
    BalanceRead,
    BurnDownRead,
    UsageRead,
)
from computeport.http.deps import ClockDep, SessionDep
from computeport.http.paging import AfterId, Limit
from computeport.identity.auth import CurrentSubject
from computeport.ledger.queries import balances
from computeport.metering.repository import charges_readable_by
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.identity import Role
from computeport.models.metering import UsageCharge

router = APIRouter(prefix="/api/v1", tags=["billing"])

LEDGER_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER)


@router.get("/usage", response_model=list[UsageRead])
def list_usage(
    subject: CurrentSubject,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    award_id: uuid.UUID | None = None,
    after_id: AfterId = 0,
    limit: Limit = 100,
) -> list[UsageRead]:
    """Rating rows of the caller's organisations, oldest first (keyset-paginated by id)."""
    stmt = charges_readable_by(subject).where(UsageCharge.id > after_id).order_by(UsageCharge.id)
    if period is not None:
        stmt = stmt.where(UsageCharge.period == period)
    if award_id is not None:
        stmt = stmt.where(UsageCharge.award_id == award_id)
    return [UsageRead.model_validate(c) for c in session.scalars(stmt.limit(limit))]


@router.get("/ledger/balances", response_model=list[BalanceRead])
def ledger_balances(subject: CurrentSubject, session: SessionDep) -> list[BalanceRead]:
    """Every account's balance (sum of its postings); staff only."""
    subject.require(*LEDGER_READERS)
    return [
        BalanceRead(code=b.code, kind=str(b.kind), name=b.name, balance_minor=b.balance_minor)
        for b in balances(session)
    ]


@router.get("/awards/{award_id}/burndown", response_model=BurnDownRead, responses={404: {}})
def burndown(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> BurnDownRead:
    """HK$ and GPU-hours used against the award, and the forecast run-out dates."""
    ensure_readable(session, subject, award_id)
    b = award_burn_down(session, clock, award_id)
    return BurnDownRead(
        award_id=b.award_id,
        reference=b.reference,
        cap_minor=b.cap_minor,
        consumed_minor=b.consumed_minor,
        percent_used=str(b.percent_used),
        list_minor=b.list_minor,
        copay_minor=b.copay_minor,
        subsidy_per_day_minor=b.subsidy_per_day_minor,
        runs_out_at=b.runs_out_at,
        by_accelerator=[
            AcceleratorBurnRead(
                accelerator_type=a.accelerator_type,
                awarded_gpu_hours=a.awarded_gpu_hours,
                used_gpu_hours=str(a.used_gpu_hours),
                runs_out_at=a.runs_out_at,
            )
            for a in b.by_accelerator
        ],
    )


def _adjustment(view: adjustments.AdjustmentView) -> AdjustmentRead:
    a = view.adjustment
    return AdjustmentRead(
        id=a.id,
        idempotency_key=a.idempotency_key,
        target=str(a.target),
        organisation_id=a.organisation_id,
        organisation_name=view.organisation_name,
        award_id=a.award_id,
        award_reference=view.award_reference,
        period=a.period,
        billing_period=a.billing_period,
        amount_minor=a.amount_minor,
        currency=a.currency,
        reason=a.reason,
        actor_id=a.actor_id,
        created_at=a.created_at,
        journal_id=a.journal_id,
        document_number=view.document_number,
    )


@router.post(
    "/adjustments",
    response_model=AdjustmentRead,
    status_code=201,
    responses={200: {"description": "The key was used before: the same adjustment"}, 409: {}},
)
def post_adjustment(
    body: AdjustmentIn,
    response: Response,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AdjustmentRead:
    """Post a signed adjustment to a receivable or an award's subsidy (operators only)."""
    posted = adjustments.post_adjustment(
        session,
        clock,
        subject,
        adjustments.AdjustmentRequest(
            target=body.target,
            amount_minor=body.amount_minor,
            period=body.period,
            reason=body.reason,
            idempotency_key=body.idempotency_key,
            organisation_id=body.organisation_id,
            award_id=body.award_id,
        ),
    )
    if not posted.created:
        response.status_code = 200
    return _adjustment(adjustments.view_of(session, posted.adjustment))


@router.get("/adjustments", response_model=list[AdjustmentRead])
def list_adjustments(
    subject: CurrentSubject,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    organisation_id: uuid.UUID | None = None,
    target: AdjustmentTarget | None = None,
    limit: Limit = 100,
) -> list[AdjustmentRead]:
    """Adjustments, newest first, with the document that billed each; ledger readers only."""
    subject.require(*adjustments.READERS)
    return [
        _adjustment(v)
        for v in adjustments.list_adjustments(
            session, period=period, organisation_id=organisation_id, target=target, limit=limit
        )
    ]


__all__ = ["router"]
