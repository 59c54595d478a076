"""Deployments that run as Slurm jobs: launching one, and its upstream list following the jobs.

``launch`` submits a deployment's server (a :mod:`computeport.gateway.batch` template) as a
long-running job under its award's Slurm account, so the GPU-hours it holds are metered like
any job's, and marks the deployment as following that cluster.  ``follow`` then makes the
deployment's upstreams the endpoints its running jobs report (``endpoint=…`` in their Comment,
written once their server answers): a job that starts adds its endpoint, one that ends
(completed, cancelled, failed, preempted) takes its endpoint away, and a deployment with no
running job has no upstream (the gateway answers 503 for it, as for any deployment with none
healthy).  Deployments listed by hand (``slurm_cluster`` unset) are never touched.

Both read the cluster through the :class:`~computeport.backends.ClusterBackend` the caller
opened; neither commits (the command's or the duty's unit of work does).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.backends import ClusterBackend, JobSpec, JobState
from computeport.gateway.batch import batch_script, endpoint_of, job_name
from computeport.gateway.keys import replace_upstreams
from computeport.kit.errors import NotFound, ValidationFailed
from computeport.models.award import Award, AwardStatus
from computeport.models.inference import ModelDeployment, ModelUpstream


@dataclass(frozen=True)
class Launched:
    job_id: str
    account: str
    cluster: str


def launch(
    session: Session,
    backend: ClusterBackend,
    name: str,
    *,
    user: str,
    template: str = "vllm",
    model_path: str,
    port: int,
    gpus: int,
    time_limit_minutes: int = 7 * 24 * 60,
    workdir: str | None = None,
) -> Launched:
    """Submit deployment ``name``'s server as a job under its award's account (its output
    goes to ``workdir``, which the job's user must be able to write)."""
    deployment = session.scalar(select(ModelDeployment).where(ModelDeployment.name == name))
    if deployment is None:
        raise NotFound(f"no deployment {name!r}", field="name")
    award = session.get(Award, deployment.award_id) if deployment.award_id else None
    if award is None or award.status is not AwardStatus.ACTIVE:
        raise ValidationFailed(
            f"deployment {name!r} needs an active award: its job runs under the award's "
            "Slurm account",
            field="award_id",
        )
    hours, minutes = divmod(time_limit_minutes, 60)
    script = batch_script(
        template,
        model=name,
        model_path=model_path,
        port=port,
        gpus=gpus,
        time_limit=f"{hours // 24}-{hours % 24:02d}:{minutes:02d}:00",
    )
    job_id = backend.submit(
        JobSpec(
            account=award.slurm_account,
            user=user,
            script=script,
            gpus=gpus,
            time_limit_minutes=time_limit_minutes,
            name=job_name(name),
            gpu_type=deployment.accelerator_type or None,
            workdir=workdir,
        )
    )
    deployment.slurm_cluster = backend.cluster
    session.flush()
    return Launched(job_id, award.slurm_account, backend.cluster)


def follow(session: Session, backend: ClusterBackend) -> dict[str, tuple[str, ...]]:
    """Set each following deployment's upstreams to its running jobs' endpoints; returns
    the deployments that changed, with their new upstreams."""
    changed: dict[str, tuple[str, ...]] = {}
    following = session.execute(
        select(ModelDeployment, Award.slurm_account)
        .join(Award, Award.id == ModelDeployment.award_id)
        .where(ModelDeployment.slurm_cluster == backend.cluster)
    ).all()
    if not following:
        return changed
    jobs = backend.jobs()
    for deployment, account in following:
        wanted = job_name(deployment.name)
        endpoints = sorted(
            {
                url
                for j in jobs
                if j.account == account and j.name == wanted and j.state is JobState.RUNNING
                for url in (endpoint_of(j.comment),)
                if url is not None
            }
        )
        current = sorted(
            session.scalars(
                select(ModelUpstream.base_url).where(ModelUpstream.deployment_id == deployment.id)
            )
        )
        if endpoints != current:
            replace_upstreams(session, deployment, endpoints)
            changed[deployment.name] = tuple(endpoints)
    return changed


__all__ = ["Launched", "follow", "launch"]
