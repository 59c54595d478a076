"""Jobs on awards: who may submit, see and cancel what, and the checks before the cluster.

The cluster is the authority on jobs (there is no job table: Slurm or the virtual cluster
holds them); this service decides *who* may touch which: a job belongs to the award whose
``slurm_account`` it runs on, hence to that award's organisation.  Applicants see and cancel
their organisations' jobs; overseers (operators, officers, committee, funder) see all; only
applicants submit, and only on an active award of their own organisation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from computeport.award.errors import AwardNotFound
from computeport.award.repository import accounts_readable_by
from computeport.backends import ClusterBackend, JobInfo, JobNotFound, JobSpec
from computeport.identity.subject import Subject
from computeport.jobs.errors import AwardNotActive
from computeport.jobs.schemas import JobIn
from computeport.kit.errors import PermissionDenied, ValidationFailed
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import ORGANISATION_ROLES, Role, User

__all__ = [
    "JOB_ROLES",
    "AwardRef",
    "cancel_job",
    "get_job",
    "list_jobs",
    "submit_job",
]

JOB_ROLES = (
    *ORGANISATION_ROLES,
    Role.OPERATOR,
    Role.SCHEME_OFFICER,
    Role.COMMITTEE_MEMBER,
    Role.FUNDER,
)
"""Roles that may read jobs at all (a reviewer or a role-less user may not)."""


@dataclass(frozen=True, slots=True)
class AwardRef:
    id: uuid.UUID
    reference: str
    organisation_id: uuid.UUID


def _accounts(session: Session, subject: Subject) -> dict[str, AwardRef]:
    """Award accounts whose jobs the subject may read."""
    rows = session.execute(accounts_readable_by(subject))
    return {acct: AwardRef(i, ref, org) for acct, i, ref, org in rows}


def _require_reader(subject: Subject) -> None:
    if not subject.has_role(*JOB_ROLES):
        raise PermissionDenied("jobs are for applicants and the centre's staff")


def submit_job(
    session: Session, backend: ClusterBackend, subject: Subject, data: JobIn, now: datetime
) -> tuple[JobInfo, AwardRef]:
    """Check the request against the award and the cluster, then submit it."""
    if not subject.has_role(*ORGANISATION_ROLES):
        raise PermissionDenied("only an applicant organisation's members submit jobs")
    award = session.get(Award, data.award_id)
    if award is None or not subject.can_act_for(award.organisation_id):
        raise AwardNotFound(f"award {data.award_id} not found", field="award_id")
    if award.status is not AwardStatus.ACTIVE or not award.starts_at <= now < award.ends_at:
        raise AwardNotActive(
            f"award {award.reference} is {award.status.value}"
            + ("" if award.status is not AwardStatus.ACTIVE else " but outside its dates"),
            field="award_id",
        )
    partition, gpu_type = _check_against_cluster(backend, award, data)
    user = session.get_one(User, subject.user_id)
    spec = JobSpec(
        account=award.slurm_account,
        user=user.posix_username,
        script=data.script,
        gpus=data.gpus,
        time_limit_minutes=data.time_limit_minutes,
        name=data.name,
        partition=partition,
        gpu_type=gpu_type,
        expected_run_seconds=data.expected_run_seconds,
    )
    job_id = backend.submit(spec)
    return backend.job(job_id), AwardRef(award.id, award.reference, award.organisation_id)


def _check_against_cluster(
    backend: ClusterBackend, award: Award, data: JobIn
) -> tuple[str | None, str | None]:
    partitions = {p.name: p for p in backend.partitions()}
    if data.partition is not None and data.partition not in partitions:
        raise ValidationFailed(
            f"no partition {data.partition!r} (one of {', '.join(sorted(partitions))})",
            field="partition",
        )
    chosen = [partitions[data.partition]] if data.partition else list(partitions.values())
    gpu_type = data.gpu_type.lower() if data.gpu_type else None
    awarded = {line.accelerator_type.lower() for line in award.lines}
    if gpu_type is not None:
        if awarded and gpu_type not in awarded:
            raise ValidationFailed(
                f"award {award.reference} grants {', '.join(sorted(awarded))}, not {gpu_type}",
                field="gpu_type",
            )
        if not any(gpu_type in p.gpu_types for p in chosen):
            raise ValidationFailed(f"no {gpu_type} GPUs in that partition", field="gpu_type")
    largest = max((p.gpus for p in chosen), default=0)
    if data.gpus > largest:
        raise ValidationFailed(f"at most {largest} GPUs fit in one job here", field="gpus")
    if award.gpu_cap is not None and data.gpus > award.gpu_cap:
        raise ValidationFailed(
            f"award {award.reference} is capped at {award.gpu_cap} GPUs at once", field="gpus"
        )
    return data.partition, gpu_type


def list_jobs(
    session: Session,
    backend: ClusterBackend,
    subject: Subject,
    *,
    award_id: uuid.UUID | None = None,
) -> list[tuple[JobInfo, AwardRef | None]]:
    """Jobs the cluster holds now that the subject may read."""
    _require_reader(subject)
    accounts = _accounts(session, subject)
    out: list[tuple[JobInfo, AwardRef | None]] = []
    for job in backend.jobs():
        ref = accounts.get(job.account)
        if ref is None and not subject.sees_all_organisations:
            continue
        if award_id is not None and (ref is None or ref.id != award_id):
            continue
        out.append((job, ref))
    return out


def get_job(
    session: Session, backend: ClusterBackend, subject: Subject, job_id: str
) -> tuple[JobInfo, AwardRef | None]:
    """One job, if the subject may read it (404 otherwise, whether or not it exists)."""
    _require_reader(subject)
    try:
        job = backend.job(job_id)
    except JobNotFound:
        raise JobNotFound(f"job {job_id} not found", field="job_id") from None
    ref = _accounts(session, subject).get(job.account)
    if ref is None and not subject.sees_all_organisations:
        raise JobNotFound(f"job {job_id} not found", field="job_id")
    return job, ref


def cancel_job(
    session: Session, backend: ClusterBackend, subject: Subject, job_id: str
) -> tuple[JobInfo, AwardRef | None]:
    """Cancel a job: its organisation's applicants, or an operator."""
    job, ref = get_job(session, backend, subject, job_id)
    allowed = subject.has_role(Role.OPERATOR) or (
        ref is not None and subject.can_act_for(ref.organisation_id)
    )
    if not allowed:
        raise PermissionDenied("only the job's organisation or an operator may cancel it")
    backend.cancel(job.job_id)
    return backend.job(job.job_id), ref
