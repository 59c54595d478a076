"""The budgets' management API (included by :mod:`computeport.gateway.endpoints`).

- ``GET /api/v1/gateway-budgets?organisation_id=…``: the organisation's budgets, the period in
  force (calendar month, Hong Kong time), when it resets, and what each has spent so far;
- ``PUT /api/v1/gateway-budgets`` (operators): set one budget in HK cents a month, or remove it
  with ``"monthly_minor": null``; audited.  This process's gateway forgets its cached keys of
  the organisation at once; the other processes within ``Settings.gateway_cache_seconds``.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from computeport.gateway.budget_admin import budget_report, set_budget
from computeport.gateway.repository import keys_of
from computeport.gateway.schemas import BudgetIn, BudgetLineRead, BudgetsRead
from computeport.http.deps import ClockDep, SessionDep, state_of
from computeport.identity.auth import CurrentSubject
from computeport.kit.errors import NotFound
from computeport.models.identity import Role

router = APIRouter(tags=["inference"])  # under the management router's /api/v1


def _report(
    request: Request, session: SessionDep, clock: ClockDep, organisation_id: uuid.UUID
) -> BudgetsRead:
    zone = ZoneInfo(state_of(request).settings.gateway_budget_timezone)
    r = budget_report(session, organisation_id, clock.now(), zone)
    return BudgetsRead(
        organisation_id=r.organisation_id,
        period=r.period,
        period_rule=r.period_rule,
        period_starts_at=r.starts_at,
        resets_at=r.resets_at,
        budgets=[
            BudgetLineRead(
                id=b.id,
                scope=b.scope,
                subject=b.subject,
                monthly_minor=b.monthly_minor,
                spent_minor=b.spent_minor,
                left_minor=b.left_minor,
            )
            for b in r.budgets
        ],
    )


@router.get("/gateway-budgets", response_model=BudgetsRead, responses={404: {}})
def list_budgets(
    organisation_id: Annotated[uuid.UUID, Query()],
    request: Request,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> BudgetsRead:
    if not subject.can_see_organisation(organisation_id):
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")
    return _report(request, session, clock, organisation_id)


@router.put("/gateway-budgets", response_model=BudgetsRead, responses={403: {}, 404: {}})
def put_budget(
    body: BudgetIn,
    request: Request,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> BudgetsRead:
    subject.require(Role.OPERATOR)
    set_budget(
        session,
        clock,
        body.organisation_id,
        body.scope,
        body.monthly_minor,
        key_id=body.key_id,
        application=body.application,
        actor_id=subject.user_id,
    )
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is not None:  # this process re-reads the organisation's keys at once
        for key in keys_of(session, body.organisation_id):
            gateway.lookups.forget_key(key.id)
    return _report(request, session, clock, body.organisation_id)
