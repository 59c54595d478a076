"""An organisation's jobs on the cluster: listed per award account, submitted and cancelled
through the ``ClusterBackend`` on behalf of a member.

Who may: a member of the organisation, on one of its active awards; a job is found only through
the organisation's award accounts, so another organisation's job id is 404.
"""

from __future__ import annotations

import uuid

from computeport.backends import ClusterBackend, JobInfo, JobNotFound, JobSpec
from computeport.kit.errors import Conflict, NotFound
from computeport.models.award import Award, AwardStatus

DEFAULT_SCRIPT = "#!/bin/bash\n#SBATCH --job-name=train\nsrun python train.py\n"


def organisation_jobs(backend: ClusterBackend, awards: list[Award]) -> list[JobInfo]:
    """Every job the scheduler holds on the organisation's award accounts, newest first."""
    found: list[JobInfo] = []
    for award in awards:
        found.extend(backend.jobs(account=award.slurm_account))
    return sorted(found, key=lambda j: (j.submit_time, j.job_id), reverse=True)


def submit_job(
    backend: ClusterBackend,
    awards: list[Award],
    *,
    award_id: uuid.UUID,
    user: str,
    name: str,
    gpus: int,
    time_limit_minutes: int,
    script: str,
    expected_run_seconds: int | None = None,
) -> str:
    """Queue a job on one of the organisation's active awards; returns the job id."""
    award = next((a for a in awards if a.id == award_id), None)
    if award is None:
        raise NotFound("no such award", field="award_id")
    if award.status is not AwardStatus.ACTIVE:
        raise Conflict(f"award {award.reference} is {award.status.value}", field="award_id")
    gpu_type = award.lines[0].accelerator_type if award.lines else None
    spec = JobSpec(
        account=award.slurm_account,
        user=user,
        script=script,
        gpus=gpus,
        time_limit_minutes=time_limit_minutes,
        name=name or "computeport",
        gpu_type=gpu_type,
        expected_run_seconds=expected_run_seconds,
    )
    return backend.submit(spec)


def cancel_job(backend: ClusterBackend, awards: list[Award], job_id: str) -> None:
    """Cancel a job of the organisation (404 for anyone else's)."""
    accounts = {a.slurm_account for a in awards}
    job = backend.job(job_id)
    if job.account not in accounts:
        raise JobNotFound(f"no job {job_id}")
    backend.cancel(job_id)
