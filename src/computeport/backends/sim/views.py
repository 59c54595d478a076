"""What the virtual cluster shows: jobs as ``squeue`` would, nodes and partitions as ``sinfo``.

The running jobs are read once per instant from the core's per-partition lists and kept until
the cluster changes (``_running``), because the portal reads jobs, nodes and partitions
together.
"""

from __future__ import annotations

from computeport.backends.errors import JobNotFound
from computeport.backends.sim.base import SimParts
from computeport.backends.sim.reasons import job_state, slurm_reason
from computeport.backends.types.inventory import NodeInfo, NodeState, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobState, PendingReason
from computeport.simulator import JobStatus

__all__ = ["SimViews"]


class SimViews(SimParts):
    """Job, node and partition views of :class:`~computeport.backends.sim.backend.SimBackend`."""

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        with self._lock:
            self._sync()
            engine = self.engine
            statuses = engine.pending() + self._running()
            horizon = engine.now_s - self.recent_s
            while self._recent and self._recent[0][0] < horizon:
                self._recent.popleft()
            seen = {s.job_id for s in statuses}
            statuses += [engine.status(jid) for _, jid in self._recent if jid not in seen]
            out = [self._info(s) for s in statuses]
            out.sort(key=lambda j: int(j.job_id))
            return [j for j in out if account is None or j.account == account]

    def job(self, job_id: str) -> JobInfo:
        with self._lock:
            self._sync()
            if job_id not in self._meta:
                raise JobNotFound(f"the virtual cluster knows no job {job_id}", field="job_id")
            return self._info(self.engine.status(job_id))

    def _info(self, status: JobStatus) -> JobInfo:
        meta = self._meta[status.job_id]
        state = job_state(status.state, timed_out=meta.timed_out)
        if state is JobState.PENDING:
            raw, reason = slurm_reason(status.reason, paused=self._paused(meta.account))
        else:
            raw, reason = "None", PendingReason.NONE
        start = None if status.start_s is None else self._at(status.start_s)
        end = None
        if state.finished and meta.end_s >= 0:
            end = self._at(meta.end_s)
        accel = self._accelerators[meta.partition]
        return JobInfo(
            job_id=status.job_id,
            name=meta.name,
            account=meta.account,
            user=meta.user,
            partition=meta.partition,
            state=state,
            reason=raw,
            pending_reason=reason,
            gpus=status.gpus,
            gpu_type=accel,
            submit_time=self._at(meta.submit_s),
            start_time=start,
            end_time=end,
            time_limit_minutes=meta.time_limit_minutes,
            nodes=status.nodes,
            exit_code=0 if state is JobState.COMPLETED else None,
        )

    def _version(self) -> tuple[int, ...]:
        engine = self.engine
        return (engine.now_s, engine.passes, engine.finished, len(self._records), self._events)

    def _running(self) -> list[JobStatus]:
        """Running jobs, from the state's per-partition running lists, once per instant.

        (``Engine.running()`` scans every job ever submitted, which grows with the history;
        the portal reads jobs, nodes and partitions together, so the view is kept until the
        cluster changes.)
        """
        version = self._version()
        if self._running_view is None or self._running_view[0] != version:
            state = self.engine.state
            runs = [state.runs[ix] for part in state.running for _, ix in part]
            runs.sort(key=lambda r: (r.start, r.ix))
            statuses = [self.engine.status(r.job.job_id) for r in runs]
            self._running_view = (version, statuses)
        return self._running_view[1]

    def _node_use(self) -> dict[str, int]:
        used: dict[str, int] = {}
        for status in self._running():
            part = self.inventory.partition(status.partition)
            per_node = part.node_type.gpus_per_node
            share = status.gpus if len(status.nodes) == 1 else per_node
            for node in status.nodes:
                used[node] = used.get(node, 0) + min(share, per_node)
        return used

    def nodes(self) -> list[NodeInfo]:
        with self._lock:
            self._sync()
            used = self._node_use()
            overlays = {b: o for o, b in self.inventory.overlays.items()}
            out: list[NodeInfo] = []
            for part in self.inventory.spec.partitions:
                names = (part.name, *(o for b, o in overlays.items() if b == part.name))
                node_type = part.node_type
                for node in part.nodes():
                    busy = used.get(node.name, 0)
                    if busy == 0:
                        state = NodeState.IDLE
                    elif busy < node_type.gpus_per_node:
                        state = NodeState.MIXED
                    else:
                        state = NodeState.ALLOCATED
                    out.append(
                        NodeInfo(
                            name=node.name,
                            state=state,
                            raw_state=state.value,
                            partitions=names,
                            gpus=node_type.gpus_per_node,
                            gpus_used=busy,
                            gpu_type=node_type.accelerator.lower(),
                            cpus=node_type.cpu_cores,
                        )
                    )
            return out

    def partitions(self) -> list[PartitionInfo]:
        with self._lock:
            self._sync()
            used = self._node_use()
            out: list[PartitionInfo] = []
            for name in self.inventory.partition_names():
                base = self.inventory.base_of(name)
                assert base is not None
                part = self.inventory.partition(base)
                nodes = tuple(n.name for n in part.nodes())
                out.append(
                    PartitionInfo(
                        name=name,
                        up=True,
                        default=name == self.inventory.default,
                        nodes=nodes,
                        gpus=part.gpus,
                        gpus_used=sum(used.get(n, 0) for n in nodes),
                        gpu_types=(part.node_type.accelerator.lower(),),
                    )
                )
            return out

    @property
    def busy_gpus(self) -> int:
        return self.engine.busy_gpus

    def utilisation(self) -> float:
        """GPUs in use now over all GPUs."""
        with self._lock:
            self._sync()
            return self.engine.busy_gpus / self.inventory.spec.gpus
