"""The gateway's management API: keys (issued once, listed, revoked), deployments, usage.

- ``POST /api/v1/gateway-keys``: an organisation's admin (or an operator) issues a key for an
  application; the answer holds the key — the only time it is shown;
- ``GET /api/v1/gateway-keys?organisation_id=…``: the keys (prefix, application, state);
- ``POST /api/v1/gateway-keys/{id}/revoke``: revoked at once in this process, in the others
  within ``Settings.gateway_cache_seconds``;
- ``POST /api/v1/model-deployments`` (operators) and ``GET`` (everyone signed in);
- ``GET /api/v1/inference-usage?organisation_id=…&period=YYYY-MM``: requests, tokens, spend
  and subsidy per day and model — what the department's page shows;
- ``PUT /api/v1/awards/{id}/inference-allowance`` (scheme officers, operators): the award's
  monthly token budget and its organisation's per-minute limits;
- ``GET /api/v1/inference-figures?period=YYYY-MM`` (operators, the funder, scheme officers):
  tokens and requests per model and department, latency percentiles, the error rate, and the
  share of government departments that used the service, and that used chat, transcription or
  both; per department category the tokens, the audio hours and the subsidy paid for each.

Another organisation's keys or usage are a 404, never a 403.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from computeport.gateway import figures
from computeport.gateway import keys as service
from computeport.gateway.budget_endpoints import router as budget_router
from computeport.gateway.repository import usage_by_day_and_model
from computeport.gateway.schemas import (
    AllowanceIn,
    AllowanceRead,
    CategoryFiguresRead,
    DeploymentIn,
    DeploymentRead,
    FiguresRead,
    KeyIn,
    KeyIssued,
    KeyRead,
    SliceRead,
    UsageRow,
)
from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.identity.subject import Subject
from computeport.kit.errors import NotFound, PermissionDenied
from computeport.kit.periods import parse_period
from computeport.models.award import Award
from computeport.models.identity import Role
from computeport.models.inference import GatewayKey, ModelDeployment, ModelUpstream

router = APIRouter(prefix="/api/v1", tags=["inference"])


def _read(key: GatewayKey) -> KeyRead:
    return KeyRead(
        id=key.id,
        organisation_id=key.organisation_id,
        application=key.application,
        prefix=key.prefix,
        requests_per_minute=key.requests_per_minute,
        tokens_per_minute=key.tokens_per_minute,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def _visible(subject: Subject, organisation_id: uuid.UUID) -> None:
    if not subject.can_see_organisation(organisation_id):
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")


@router.post(
    "/gateway-keys",
    response_model=KeyIssued,
    status_code=status.HTTP_201_CREATED,
    responses={403: {}, 404: {}},
)
def issue_key(
    body: KeyIn, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> KeyIssued:
    _visible(subject, body.organisation_id)
    if not service.may_manage_keys(subject, body.organisation_id):
        raise PermissionDenied("only the organisation's admin or an operator issues keys")
    issued = service.issue_key(
        session,
        clock,
        body.organisation_id,
        body.application,
        created_by=subject.user_id,
        requests_per_minute=body.requests_per_minute,
        tokens_per_minute=body.tokens_per_minute,
    )
    return KeyIssued(**_read(issued.key).model_dump(), key=issued.plaintext)


@router.get("/gateway-keys", response_model=list[KeyRead], responses={404: {}})
def list_keys(
    organisation_id: Annotated[uuid.UUID, Query()], subject: CurrentSubject, session: SessionDep
) -> list[KeyRead]:
    _visible(subject, organisation_id)
    return [_read(k) for k in service.organisation_keys(session, organisation_id)]


@router.post("/gateway-keys/{key_id}/revoke", response_model=KeyRead, responses={404: {}})
def revoke_key(
    key_id: uuid.UUID,
    request: Request,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> KeyRead:
    key = session.get(GatewayKey, key_id)
    if key is None or not subject.can_see_organisation(key.organisation_id):
        raise NotFound(f"gateway key {key_id} not found", field="key_id")
    if not service.may_manage_keys(subject, key.organisation_id):
        raise PermissionDenied("only the organisation's admin or an operator revokes keys")
    revoked = service.revoke_key(session, clock, key_id, None)
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is not None:
        gateway.lookups.forget_key(key_id)  # this process: at once
    return _read(revoked)


@router.post(
    "/model-deployments",
    response_model=DeploymentRead,
    status_code=status.HTTP_201_CREATED,
    responses={403: {}, 409: {}},
)
def register_deployment(
    body: DeploymentIn, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> DeploymentRead:
    subject.require(Role.OPERATOR)
    d = service.register_deployment(
        session,
        clock,
        name=body.name,
        organisation_id=body.organisation_id,
        accelerator_type=body.accelerator_type,
        upstreams=[u if isinstance(u, str) else (u.url, u.site) for u in body.upstreams],
        award_id=body.award_id,
        modality=body.modality,
        site=body.site,
    )
    return deployment_read(session, d)


@router.get("/model-deployments", response_model=list[DeploymentRead])
def list_deployments(subject: CurrentSubject, session: SessionDep) -> list[DeploymentRead]:
    rows = session.scalars(select(ModelDeployment).order_by(ModelDeployment.name))
    return [deployment_read(session, d) for d in rows]


def deployment_read(session: SessionDep, d: ModelDeployment) -> DeploymentRead:
    urls = {
        url: site
        for url, site in session.execute(
            select(ModelUpstream.base_url, ModelUpstream.site_key)
            .where(ModelUpstream.deployment_id == d.id)
            .order_by(ModelUpstream.base_url)
        )
    }
    return DeploymentRead(
        id=d.id,
        name=d.name,
        organisation_id=d.organisation_id,
        award_id=d.award_id,
        accelerator_type=d.accelerator_type,
        upstreams=list(urls),
        modality=d.modality,
        sites=urls,
    )


@router.get("/inference-usage", response_model=list[UsageRow], responses={404: {}})
def inference_usage(
    organisation_id: Annotated[uuid.UUID, Query()],
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    subject: CurrentSubject,
    session: SessionDep,
) -> list[UsageRow]:
    _visible(subject, organisation_id)
    start, end = parse_period(period)
    return [
        UsageRow(
            day=str(day)[:10],
            model=model,
            requests=int(n),
            prompt_tokens=int(p or 0),
            completion_tokens=int(c or 0),
            audio_seconds=int(ms) / 1000,
            list_minor=int(lst),
            subsidy_minor=int(sub),
            copay_minor=int(cop),
        )
        for day, model, n, p, c, ms, lst, sub, cop in usage_by_day_and_model(
            session, organisation_id, start, end
        )
    ]


@router.get("/inference-figures", response_model=FiguresRead, responses={403: {}})
def inference_figures(
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    subject: CurrentSubject,
    session: SessionDep,
) -> FiguresRead:
    """The operator's and the funder's figures of one month (UTC)."""
    subject.require(*figures.FIGURE_READERS)
    start, end = parse_period(period)
    f = figures.inference_figures(session, period, start, end)
    return FiguresRead(
        period=f.period,
        requests=f.requests,
        errors=f.errors,
        error_rate=f.error_rate,
        prompt_tokens=f.prompt_tokens,
        completion_tokens=f.completion_tokens,
        latency_ms=f.latency_ms,
        ttft_ms=f.ttft_ms,
        by_model=[_slice(s) for s in f.by_model],
        by_department=[_slice(s) for s in f.by_department],
        government_using=f.government_using,
        government_total=f.government_total,
        government_share=f.government_share,
        government_chat_share=f.government_chat_share,
        government_transcription_share=f.government_transcription_share,
        government_both_share=f.government_both_share,
        by_category=[
            CategoryFiguresRead(
                category=c.category,
                tokens=c.tokens,
                audio_hours=round(c.audio_hours, 4),
                token_subsidy_minor=c.token_subsidy_minor,
                audio_subsidy_minor=c.audio_subsidy_minor,
            )
            for c in f.by_category
        ],
        audio_seconds=f.audio_ms / 1000,
        transcription_organisations=f.transcription_users,
        token_spend_minor=f.token_spend_minor,
        audio_spend_minor=f.audio_spend_minor,
    )


def _slice(s: figures.Slice) -> SliceRead:
    return SliceRead(
        name=s.name,
        requests=s.requests,
        prompt_tokens=s.prompt_tokens,
        completion_tokens=s.completion_tokens,
        audio_seconds=s.audio_ms / 1000,
    )


ALLOWANCE_SETTERS = (Role.SCHEME_OFFICER, Role.OPERATOR)


@router.put(
    "/awards/{award_id}/inference-allowance",
    response_model=AllowanceRead,
    responses={403: {}, 404: {}},
)
def put_allowance(
    award_id: uuid.UUID,
    body: AllowanceIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AllowanceRead:
    """The award's monthly token budget for its organisation's gateway keys (and optional
    per-minute limits for the organisation): set by the scheme officer or an operator."""
    subject.require(*ALLOWANCE_SETTERS)
    if session.get(Award, award_id) is None:
        raise NotFound(f"award {award_id} not found", field="award_id")
    row = service.set_allowance(
        session,
        clock,
        award_id,
        body.monthly_tokens,
        requests_per_minute=body.requests_per_minute,
        tokens_per_minute=body.tokens_per_minute,
    )
    return AllowanceRead(
        award_id=award_id,
        monthly_tokens=row.monthly_tokens,
        requests_per_minute=row.requests_per_minute,
        tokens_per_minute=row.tokens_per_minute,
    )


router.include_router(budget_router)  # /api/v1/gateway-budgets
