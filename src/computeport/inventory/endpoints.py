"""GET /api/v1/sites, /api/v1/clusters(/{name}, /health): the inventory and its health, for staff.

Read-only: the inventory changes only by loading its file (``computeport clusters load``), so
the file stays the operator's record.  Every signed-in staff member may read it (reviewers and
the funder plan with it too); applicants get 403.
"""

from __future__ import annotations

from datetime import UTC, date

from fastapi import APIRouter, Path, Response
from pydantic import TypeAdapter

from computeport.http.deps import ClockDep, SessionDep, json_response
from computeport.identity.auth import CurrentSubject
from computeport.inventory.errors import ClusterNotFound
from computeport.inventory.health import cluster_states
from computeport.inventory.repository import all_clusters, all_sites, cluster_named
from computeport.inventory.schemas import ClusterHealthRead, ClusterRead, SiteRead
from computeport.kit.clock import Clock
from computeport.models.identity import STAFF_ROLES

router = APIRouter(prefix="/api/v1", tags=["inventory"])

READERS = tuple(sorted(STAFF_ROLES))
SITES = TypeAdapter(list[SiteRead])
CLUSTERS = TypeAdapter(list[ClusterRead])
CLUSTER = TypeAdapter(ClusterRead)
HEALTH = TypeAdapter(list[ClusterHealthRead])


def utc_day(clock: Clock) -> date:
    """The centre's day: commissioning dates take effect at midnight UTC, as the worker's do."""
    return clock.now().astimezone(UTC).date()


@router.get("/sites", response_model=list[SiteRead], responses={403: {}})
def list_sites(subject: CurrentSubject, session: SessionDep, clock: ClockDep) -> Response:
    """Every site with its clusters' names and its GPUs and peak PFLOPS; its status today."""
    subject.require(*READERS)
    today = utc_day(clock)
    return json_response(SITES, [SiteRead.of(s, today) for s in all_sites(session)])


@router.get("/clusters", response_model=list[ClusterRead], responses={403: {}})
def list_clusters(subject: CurrentSubject, session: SessionDep, clock: ClockDep) -> Response:
    """Every cluster with its back end, connection settings, partitions and status today."""
    subject.require(*READERS)
    today = utc_day(clock)
    return json_response(CLUSTERS, [ClusterRead.of(c, today) for c in all_clusters(session)])


@router.get("/clusters/health", response_model=list[ClusterHealthRead], responses={403: {}})
def list_cluster_health(subject: CurrentSubject, session: SessionDep) -> Response:
    """Every cluster the worker has spoken to: up, or down since when, and the last error.

    Declared before ``/clusters/{name}`` so that ``health`` is never read as a cluster's name
    (names are checked to start with a letter and hold no ``/``, but ``health`` is one).
    """
    subject.require(*READERS)
    return json_response(HEALTH, [ClusterHealthRead.of(h) for h in cluster_states(session)])


@router.get("/clusters/{name}", response_model=ClusterRead, responses={403: {}, 404: {}})
def get_cluster(
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    name: str = Path(min_length=1, max_length=40),
) -> Response:
    """One cluster by name."""
    subject.require(*READERS)
    cluster = cluster_named(session, name)
    if cluster is None:
        raise ClusterNotFound(f"no cluster named {name!r}", field="name")
    return json_response(CLUSTER, ClusterRead.of(cluster, utc_day(clock)))


__all__ = ["router"]
