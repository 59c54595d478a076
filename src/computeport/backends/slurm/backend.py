"""``SlurmBackend``: the :class:`~computeport.backends.protocol.ClusterBackend` on real Slurm.

Everything goes through Slurm's client commands (``sacctmgr``, ``sbatch``, ``scancel``,
``squeue/sinfo/sacct --json``, ``scontrol``) via one :class:`SlurmRunner`, so there is one
place for timeouts, retries and argv discipline.  slurmrestd is optional (see ``rest.py``).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from computeport.backends.errors import (
    BackendOutputInvalid,
    JobNotFound,
    JobRejected,
    ProvisioningConflict,
)
from computeport.backends.plan import plan_changes, removal_names
from computeport.backends.slurm.jobs_in_use import jobs_in_use
from computeport.backends.slurm.provisioning import DeferredChange, apply_change, read_actual_state
from computeport.backends.slurm.runner import RetryPolicy, SlurmCommandFailed, SlurmRunner
from computeport.backends.slurm.sacct import parse_sacct_json, sacct_time
from computeport.backends.slurm.sacct_lines import RECORD_FORMAT, parse_sacct_lines
from computeport.backends.slurm.sinfo import parse_partitions, parse_sinfo_json
from computeport.backends.slurm.squeue import parse_sbatch_parsable, parse_squeue_json
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.changes import AddMember, ProvisioningPlan
from computeport.backends.types.desired import DesiredState
from computeport.backends.types.inventory import NodeInfo, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobSpec

__all__ = ["JOB_ENVIRONMENT", "SlurmBackend", "SlurmConfig"]

JOB_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
"""What a submitted job inherits from sbatch: nothing of computeport's own environment."""


@dataclass(frozen=True, slots=True)
class SlurmConfig:
    """How to reach one Slurm cluster."""

    cluster: str
    slurm_conf: Path | None = None
    default_partition: str | None = None
    timeout_seconds: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    operator_users: frozenset[str] = frozenset()
    """Cancels by these users (maintenance) make a record not chargeable."""


class SlurmBackend:
    """Provision awards, run jobs and read accounting on one Slurm cluster."""

    def __init__(self, config: SlurmConfig, runner: SlurmRunner | None = None) -> None:
        self.config = config
        self.runner = runner or SlurmRunner(
            slurm_conf=config.slurm_conf,
            timeout_seconds=config.timeout_seconds,
            retry=config.retry,
        )

    @property
    def cluster(self) -> str:
        return self.config.cluster

    # ------------------------------------------------------------------------ provisioning

    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        """The diff; removals of accounts and QOS a job still needs are deferred (``in_use``).

        The jobs are only looked up when the plan removes something, so a steady-state
        reconcile costs no extra Slurm call.
        """
        actual = read_actual_state(self.runner, self.cluster)
        plan = plan_changes(desired, actual)
        in_use = jobs_in_use(self.runner, removal_names(plan))
        if not in_use:
            return plan
        return plan_changes(desired, replace(actual, in_use=in_use))

    def apply(self, plan: ProvisioningPlan) -> None:
        """Apply every change; removals blocked by active jobs are reported together at the end.

        Each change is one atomic sacctmgr command and re-planning is idempotent, so applying
        the rest and retrying the deferred removals at the next reconcile converges.
        """
        if plan.empty:
            return
        # Only adding a member needs to know users' default accounts.
        needs_actual = any(isinstance(c, AddMember) for c in plan.changes)
        actual = read_actual_state(self.runner, self.cluster) if needs_actual else None
        deferred = []
        for change in plan.changes:
            try:
                apply_change(self.runner, change, self.cluster, actual)
            except DeferredChange as exc:
                deferred.append(str(exc))
        if deferred:
            raise ProvisioningConflict(
                "applied all but these removals, which wait for active jobs to end "
                "(cancel them, or reconcile again later): " + "; ".join(deferred)
            )

    # -------------------------------------------------------------------------------- jobs

    def submit_argv(self, spec: JobSpec) -> list[str]:
        """The sbatch command for ``spec``; the script itself goes on stdin."""
        argv = [
            "sbatch",
            "--parsable",
            f"--account={spec.account}",
            f"--job-name={spec.name}",
            f"--time={spec.time_limit_minutes}",
        ]
        partition = spec.partition or self.config.default_partition
        if partition:
            argv.append(f"--partition={partition}")
        if spec.gpus:
            gres = f"gpu:{spec.gpu_type}:{spec.gpus}" if spec.gpu_type else f"gpu:{spec.gpus}"
            argv.append(f"--gres={gres}")
        if spec.workdir:
            argv += [f"--chdir={spec.workdir}", f"--output={spec.workdir}/slurm-%j.out"]
        if spec.user != _current_user():
            # Only root may submit for another user (Slurm 22.05: --uid); production portals
            # submit through slurmrestd with the user's own token instead.
            argv.append(f"--uid={spec.user}")
        return argv

    def submit(self, spec: JobSpec) -> str:
        try:
            result = self.runner.run(
                self.submit_argv(spec),
                input_text=spec.script,
                idempotent=False,
                environment=JOB_ENVIRONMENT,
            )
        except SlurmCommandFailed as exc:
            raise JobRejected(f"Slurm refused the job: {exc.message}", field="account") from None
        return parse_sbatch_parsable(result.stdout)

    def cancel(self, job_id: str) -> None:
        if not job_id.isdigit():
            raise JobNotFound(f"{job_id!r} is not a Slurm job id", field="job_id")
        try:
            result = self.runner.run(["scancel", job_id])
        except SlurmCommandFailed as exc:
            if "Invalid job id" in exc.stderr:
                raise JobNotFound(f"Slurm knows no job {job_id}", field="job_id") from None
            if "already completing or completed" in exc.stderr:
                return
            raise
        if "Invalid job id" in result.stderr:
            raise JobNotFound(f"Slurm knows no job {job_id}", field="job_id")

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        jobs = parse_squeue_json(self.runner.run_json(["squeue", "--json"]))
        return [j for j in jobs if account is None or j.account == account]

    def job(self, job_id: str) -> JobInfo:
        for job in self.jobs():
            if job.job_id == job_id:
                return job
        raise JobNotFound(f"Slurm holds no job {job_id}", field="job_id")

    # --------------------------------------------------------------------------- inventory

    def nodes(self) -> list[NodeInfo]:
        return parse_sinfo_json(self.runner.run_json(["sinfo", "--json"]))

    def partitions(self) -> list[PartitionInfo]:
        text = self.runner.run(["scontrol", "show", "partition", "--oneliner"]).stdout
        return parse_partitions(self.nodes(), text)

    # -------------------------------------------------------------------------- accounting

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        """Allocations that ended in [since, until): ``sacct --json -X``, backed by a text read.

        The text read (``sacct_lines``) gives the exit codes the JSON gets wrong, and stands in for
        the jobs 22.05's JSON cuts short or leaves out (see that module), so one job whose QOS was
        deleted early no longer blocks ingest of the whole window.
        """
        window = [
            "--allusers",
            "--allocations",
            f"--clusters={self.cluster}",
            f"--starttime={sacct_time(since - timedelta(seconds=1))}",
            f"--endtime={sacct_time(until + timedelta(seconds=1))}",
        ]
        try:
            data = self.runner.run_json(["sacct", "--json", *window])
        except BackendOutputInvalid:
            data = {}  # not even JSON: the text read below stands in for all of it
        lines = self.runner.run(
            ["sacct", "--parsable2", "--noheader", *window, f"--format={RECORD_FORMAT}"]
        ).stdout
        recovered = parse_sacct_lines(
            lines, cluster=self.cluster, operator_users=self.config.operator_users
        )
        return parse_sacct_json(
            data,
            cluster=self.cluster,
            since=since,
            until=until,
            exit_codes={k: r.exit_code for k, r in recovered.items() if r and not r.unreadable},
            operator_users=self.config.operator_users,
            recovered=recovered,
        )


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for our uid
        return str(os.getuid())


def operator_users(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.strip() for n in names if n.strip())
