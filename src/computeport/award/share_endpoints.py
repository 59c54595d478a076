"""REST endpoints for an award's split between clusters (thin: :mod:`computeport.award.shares`).

Whoever may read the award (staff; the award's own organisation) may read where its hours are
placed; only operators and scheme officers move them (an audited amendment, 201 with the new
split). Bad input is a problem+json naming the field (``from``, ``to``, ``hours``, ``reason``,
``accelerator_type``) and nothing is written.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from computeport.award import repository
from computeport.award.places import set_places
from computeport.award.share_commitments import committed_on_source
from computeport.award.shares import (
    SHARE_MOVERS,
    AwardShares,
    move_hours,
    show_shares,
)
from computeport.http.deps import ClockDep, SessionDep, app_state
from computeport.http.state import AppState
from computeport.identity.auth import CurrentSubject

router = APIRouter(prefix="/api/v1", tags=["awards"])


class LineSharesRead(BaseModel):
    accelerator_type: str
    gpu_hours: int
    reserve: int
    shares: dict[str, int] = Field(description="GPU-hours each cluster may spend, by name.")
    eligible: list[str] = Field(description="Clusters a share of this type may be placed on.")


class AwardSharesRead(BaseModel):
    award_id: uuid.UUID
    reference: str
    places: list[str] = Field(description="site:<key> / cluster:<name>; empty when open.")
    lines: list[LineSharesRead]


class ShareMoveIn(BaseModel):
    """Move GPU-hours of one accelerator type from a cluster (or ``reserve``) to another."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    source: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)
    hours: int = Field(gt=0, le=10**12)
    reason: str = Field(min_length=1, max_length=2000)
    accelerator_type: str | None = Field(default=None, max_length=32)


class PlacesIn(BaseModel):
    """The sites and clusters the award is limited to; both empty: open (any cluster)."""

    model_config = ConfigDict(extra="forbid")

    sites: list[str] = Field(default_factory=list, max_length=50)
    clusters: list[str] = Field(default_factory=list, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


def _read(view: AwardShares) -> AwardSharesRead:
    return AwardSharesRead(
        award_id=view.award_id,
        reference=view.reference,
        places=list(view.places),
        lines=[
            LineSharesRead(
                accelerator_type=line.accelerator_type,
                gpu_hours=line.gpu_hours,
                reserve=line.reserve,
                shares=line.shares,
                eligible=list(line.eligible),
            )
            for line in view.lines
        ],
    )


@router.get("/awards/{award_id}/shares", response_model=AwardSharesRead, responses={404: {}})
def get_shares(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> AwardSharesRead:
    """Each accelerator type's hours: the share on each cluster, the reserve, where eligible."""
    award = repository.get_readable(session, subject, award_id)
    return _read(show_shares(session, award.id))


@router.post(
    "/awards/{award_id}/shares",
    response_model=AwardSharesRead,
    status_code=201,
    responses={404: {}, 409: {"description": "the source holds fewer hours"}, 422: {}},
)
def post_share_move(
    award_id: uuid.UUID,
    body: ShareMoveIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    state: Annotated[AppState, Depends(app_state)],
) -> AwardSharesRead:
    """Move hours shrink-first between clusters and the reserve; recorded as an amendment.
    A share keeps what the award's queued and running jobs on its cluster reserved (the shrink
    floor), asked of the deployment's own back end or the cluster's Slurm controller."""
    subject.require(*SHARE_MOVERS)
    award = repository.get_readable(session, subject, award_id)
    source = body.source.strip()

    # A source whose jobs this process cannot see (another virtual cluster) keeps the floor of
    # its ingested usage; a controller that does not answer refuses the move (503).
    def committed() -> dict[str, int]:
        found = committed_on_source(session, award, source, state.backend, state.settings)
        return found or {}

    move_hours(
        session,
        award.id,
        source=source,
        target=body.to.strip(),
        hours=body.hours,
        reason=body.reason,
        actor_id=subject.user_id,
        clock=clock,
        accelerator_type=body.accelerator_type,
        committed=committed,
    )
    return _read(show_shares(session, award.id))


@router.put(
    "/awards/{award_id}/places",
    response_model=AwardSharesRead,
    responses={404: {}, 409: {"description": "a share still sits outside the new places"}, 422: {}},
)
def put_places(
    award_id: uuid.UUID,
    body: PlacesIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AwardSharesRead:
    """Limit the award to sites and/or clusters, or open it; audited."""
    subject.require(*SHARE_MOVERS)
    award = repository.get_readable(session, subject, award_id)
    set_places(
        session,
        award.id,
        sites=body.sites,
        clusters=body.clusters,
        reason=body.reason,
        actor_id=subject.user_id,
        clock=clock,
    )
    return _read(show_shares(session, award.id))


__all__ = ["router"]
