"""REST endpoints for jobs and the cluster's nodes and partitions (thin: the service decides)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from computeport.api.deps import ClockDep, SessionDep, app_state
from computeport.api.state import AppState
from computeport.backends import ClusterBackend, JobInfo, NoCluster
from computeport.identity.auth import CurrentSubject
from computeport.jobs import service
from computeport.jobs.schemas import JobIn, JobRead, NodeRead, PartitionRead
from computeport.models.identity import Role

router = APIRouter(prefix="/api/v1", tags=["jobs"])


def cluster(state: Annotated[AppState, Depends(app_state)]) -> ClusterBackend:
    if state.backend is None:
        raise NoCluster("this deployment has no cluster back end")
    return state.backend


ClusterDep = Annotated[ClusterBackend, Depends(cluster)]


def _read(job: JobInfo, ref: service.AwardRef | None) -> JobRead:
    return JobRead(
        job_id=job.job_id,
        name=job.name,
        award_id=None if ref is None else ref.id,
        award_reference=None if ref is None else ref.reference,
        account=job.account,
        user=job.user,
        partition=job.partition,
        state=job.state,
        reason=job.reason,
        pending_reason=job.pending_reason,
        gpus=job.gpus,
        gpu_type=job.gpu_type,
        submit_time=job.submit_time,
        start_time=job.start_time,
        end_time=job.end_time,
        time_limit_minutes=job.time_limit_minutes,
        nodes=list(job.nodes),
        exit_code=job.exit_code,
    )


@router.post(
    "/jobs", response_model=JobRead, status_code=201, responses={404: {}, 409: {}, 422: {}}
)
def post_job(
    body: JobIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    backend: ClusterDep,
) -> JobRead:
    """Submit a batch job on one of your organisation's active awards (its Slurm account)."""
    return _read(*service.submit_job(session, backend, subject, body, clock.now()))


@router.get("/jobs", response_model=list[JobRead])
def list_jobs(
    subject: CurrentSubject,
    session: SessionDep,
    backend: ClusterDep,
    award_id: uuid.UUID | None = None,
) -> list[JobRead]:
    """Pending, running and recently finished jobs: your organisations' (staff: all)."""
    return [_read(j, r) for j, r in service.list_jobs(session, backend, subject, award_id=award_id)]


@router.get("/jobs/{job_id}", response_model=JobRead, responses={404: {}})
def get_job(
    job_id: str, subject: CurrentSubject, session: SessionDep, backend: ClusterDep
) -> JobRead:
    """One job, with the scheduler's reason while it waits."""
    return _read(*service.get_job(session, backend, subject, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobRead, responses={404: {}})
def cancel_job(
    job_id: str, subject: CurrentSubject, session: SessionDep, backend: ClusterDep
) -> JobRead:
    return _read(*service.cancel_job(session, backend, subject, job_id))


@router.get("/cluster/nodes", response_model=list[NodeRead], tags=["cluster"])
def list_nodes(subject: CurrentSubject, backend: ClusterDep) -> list[NodeRead]:
    """The cluster's nodes and their GPUs in use (operators)."""
    subject.require(Role.OPERATOR)
    return [
        NodeRead(
            name=n.name,
            state=n.state,
            raw_state=n.raw_state,
            partitions=list(n.partitions),
            gpus=n.gpus,
            gpus_used=n.gpus_used,
            gpu_type=n.gpu_type,
            cpus=n.cpus,
            reason=n.reason,
        )
        for n in backend.nodes()
    ]


@router.get("/cluster/partitions", response_model=list[PartitionRead], tags=["cluster"])
def list_partitions(subject: CurrentSubject, backend: ClusterDep) -> list[PartitionRead]:
    """The cluster's partitions and their GPUs in use (operators)."""
    subject.require(Role.OPERATOR)
    return [
        PartitionRead(
            name=p.name,
            up=p.up,
            default=p.default,
            nodes=len(p.nodes),
            gpus=p.gpus,
            gpus_used=p.gpus_used,
            gpu_types=list(p.gpu_types),
        )
        for p in backend.partitions()
    ]
