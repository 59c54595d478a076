"""An organisation's data policy for the gateway: ``GET`` (the organisation's members and
staff) and ``PUT`` (operators, audited) ``/api/v1/organisations/{id}/data-policy``; and where
a deployment's upstreams run: ``PUT /api/v1/model-deployments/{id}/sites`` (operators,
audited).

Why operators set it: it is the centre's promise to a department about where its prompts go
(see :mod:`computeport.gateway.data_policy`).  A change reaches this API process's next
request at once and the other processes within ``Settings.gateway_cache_seconds``.  Another
organisation's policy is a 404, never a 403.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from computeport.gateway.data_policy import set_policy
from computeport.gateway.endpoints import deployment_read
from computeport.gateway.keys import tag_upstreams
from computeport.gateway.lookups import Lookups
from computeport.gateway.repository import policy_of
from computeport.gateway.schemas import (
    DataPolicyIn,
    DataPolicyRead,
    DeploymentRead,
    UpstreamSitesIn,
)
from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.kit.errors import NotFound
from computeport.models.data_policy import DataPolicy
from computeport.models.identity import Role

router = APIRouter(prefix="/api/v1", tags=["inference"])


def _served_lookups(request: Request) -> Lookups | None:
    """The caches of the gateway this process serves, if it serves one yet."""
    gateway = getattr(request.app.state, "gateway", None)
    return None if gateway is None else gateway.lookups


def _read(organisation_id: uuid.UUID, row: DataPolicy | None) -> DataPolicyRead:
    if row is None:
        return DataPolicyRead(organisation_id=organisation_id)
    sites = row.sites
    return DataPolicyRead(
        organisation_id=organisation_id,
        redact=row.redact,
        allowed_sites=list(sites) if sites is not None else None,
    )


@router.get(
    "/organisations/{organisation_id}/data-policy",
    response_model=DataPolicyRead,
    responses={404: {}},
)
def get_data_policy(
    organisation_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> DataPolicyRead:
    if not subject.can_see_organisation(organisation_id):
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")
    return _read(organisation_id, policy_of(session, organisation_id))


@router.put(
    "/organisations/{organisation_id}/data-policy",
    response_model=DataPolicyRead,
    responses={403: {}, 404: {}, 422: {}},
)
def put_data_policy(
    organisation_id: uuid.UUID,
    body: DataPolicyIn,
    request: Request,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> DataPolicyRead:
    """Replace the organisation's policy: redaction on or off, and the allowed sites."""
    subject.require(Role.OPERATOR)
    row = set_policy(
        session,
        clock,
        organisation_id,
        redact=body.redact,
        allowed_sites=body.allowed_sites,
        actor_id=subject.user_id,
    )
    if (lookups := _served_lookups(request)) is not None:
        lookups.forget_organisation(organisation_id)  # this process: at once
    return _read(organisation_id, row)


@router.put(
    "/model-deployments/{deployment_id}/sites",
    response_model=DeploymentRead,
    responses={403: {}, 404: {}, 422: {}},
)
def put_upstream_sites(
    deployment_id: uuid.UUID,
    body: UpstreamSitesIn,
    request: Request,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> DeploymentRead:
    """Tag a deployment's upstreams with their sites (operators, audited)."""
    subject.require(Role.OPERATOR)
    d = tag_upstreams(session, clock, deployment_id, body.sites, subject.user_id)
    if (lookups := _served_lookups(request)) is not None:
        lookups.forget_deployments()  # this process: at once
    return deployment_read(session, d)


__all__ = ["router"]
