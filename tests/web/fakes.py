"""A small in-memory cluster for page tests: partitions, nodes and jobs the test chooses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from computeport.backends import (
    AccountingRecord,
    DesiredState,
    JobInfo,
    JobNotFound,
    JobSpec,
    JobState,
    NodeInfo,
    NodeState,
    PartitionInfo,
    PendingReason,
    ProvisioningPlan,
)


@dataclass
class FakeCluster:
    """Implements ``ClusterBackend`` over lists; submit/cancel change the job list."""

    now: datetime
    node_count: int = 4
    gpus_per_node: int = 8
    job_list: list[JobInfo] = field(default_factory=list)
    next_id: int = 1000

    @property
    def cluster(self) -> str:
        return "fake"

    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        return ProvisioningPlan()

    def apply(self, plan: ProvisioningPlan) -> None:
        return None

    def submit(self, spec: JobSpec) -> str:
        self.next_id += 1
        job = job_info(
            str(self.next_id),
            self.now,
            state=JobState.PENDING,
            gpus=spec.gpus,
            account=spec.account,
            user=spec.user,
            name=spec.name,
        )
        self.job_list.append(job)
        return job.job_id

    def cancel(self, job_id: str) -> None:
        self.job_list = [j for j in self.job_list if j.job_id != job_id]

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        return [j for j in self.job_list if account is None or j.account == account]

    def job(self, job_id: str) -> JobInfo:
        for j in self.job_list:
            if j.job_id == job_id:
                return j
        raise JobNotFound(job_id)

    def _used(self) -> int:
        return sum(j.gpus for j in self.job_list if j.state is JobState.RUNNING)

    def nodes(self) -> list[NodeInfo]:
        left = self._used()
        found = []
        for i in range(self.node_count):
            used = min(left, self.gpus_per_node)
            left -= used
            state = (
                NodeState.IDLE
                if used == 0
                else NodeState.ALLOCATED
                if used == self.gpus_per_node
                else NodeState.MIXED
            )
            found.append(
                NodeInfo(
                    f"gpu{i:03d}",
                    state,
                    state.value,
                    ("gpu",),
                    self.gpus_per_node,
                    used,
                    "h800",
                    128,
                )
            )
        return found

    def partitions(self) -> list[PartitionInfo]:
        names = tuple(n.name for n in self.nodes())
        total = self.node_count * self.gpus_per_node
        return [PartitionInfo("gpu", True, True, names, total, self._used(), ("h800",))]

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        return []


def job_info(
    job_id: str,
    submit: datetime,
    *,
    state: JobState = JobState.RUNNING,
    gpus: int = 8,
    account: str = "acct",
    user: str = "alice",
    name: str = "train",
    reason: PendingReason = PendingReason.RESOURCES,
) -> JobInfo:
    running = state is JobState.RUNNING
    return JobInfo(
        job_id=job_id,
        name=name,
        account=account,
        user=user,
        partition="gpu",
        state=state,
        reason="None" if running else "Resources",
        pending_reason=PendingReason.NONE if running else reason,
        gpus=gpus,
        gpu_type="h800",
        submit_time=submit,
        start_time=submit if running else None,
        end_time=None,
        time_limit_minutes=60,
    )
