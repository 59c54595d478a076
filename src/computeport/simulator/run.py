"""The simulator entry point: a workload, a cluster and a policy in; per-job results out."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from computeport.scheduling.inventory import ClusterSpec
from computeport.scheduling.job import Job
from computeport.scheduling.policy import PolicyConfig
from computeport.scheduling.quota import ProjectQuota
from computeport.simulator.engine import Engine
from computeport.simulator.metrics import Metrics, compute_metrics
from computeport.simulator.records import JobResult

__all__ = ["SimulationResult", "simulate"]


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Per-job results (input order) and the run's metrics."""

    jobs: list[JobResult]
    metrics: Metrics
    sim_wall_s: float
    """Seconds the engine ran (parsing excluded)."""
    passes: int

    def jobs_csv_rows(self) -> list[tuple[str, int, str, str, int]]:
        """``job_id,submit_s,start_s,end_s,gpus`` rows (empty start/end when never started)."""
        return [
            (
                r.job_id,
                r.submit_s,
                "" if r.start_s is None else str(r.start_s),
                "" if r.end_s is None else str(r.end_s),
                r.gpus,
            )
            for r in self.jobs
        ]


def simulate(
    jobs: Sequence[Job],
    cluster: ClusterSpec,
    policy: PolicyConfig | None = None,
    *,
    quotas: dict[str, ProjectQuota] | None = None,
    progress: Callable[[int, int], None] | None = None,
    progress_every_s: float = 0.2,
    indexed: bool = True,
) -> SimulationResult:
    """Replay ``jobs`` on ``cluster`` under ``policy`` to the end.

    ``progress(done, total)`` is called now and then (jobs finished or rejected so far).
    """
    engine = Engine(cluster, policy, quotas=quotas, keep_accounting=False, indexed=indexed)
    t0 = time.perf_counter()
    engine.submit_many(jobs)
    total = len(jobs)
    if progress is not None:
        last = [0.0]

        def tick(e: Engine) -> None:
            now = time.perf_counter()
            if now - last[0] >= progress_every_s:
                last[0] = now
                progress(e.finished + e.rejected, total)

        engine.on_instant = tick
    collecting = gc.isenabled()
    gc.disable()  # the engine makes no reference cycles; a million jobs need no rescans
    try:
        engine.run()
        if progress is not None:
            progress(engine.finished + engine.rejected, total)
        results = engine.results()  # a million new acyclic records: no GC passes either
        wall = time.perf_counter() - t0
        metrics = compute_metrics(results, cluster.gpus, engine.preemptions)
    finally:
        if collecting:
            gc.enable()
    return SimulationResult(results, metrics, wall, engine.passes)
