"""The discrete-event simulator: engine, workload readers and generators, metrics.

Replay a workload::

    from computeport.scheduling import ClusterSpec, PolicyConfig
    from computeport.simulator import read_trace, simulate

    workload = read_trace(path, "philly")
    result = simulate(workload.jobs, ClusterSpec.homogeneous(2816, 8), PolicyConfig())
    result.metrics.to_dict()          # result.json's metrics
    result.jobs                       # JobResult per job, input order

Run a live cluster step by step (the embedded virtual cluster, capacity planning): see
:class:`Engine` — ``submit``, ``cancel``, ``run_until``, ``running``, ``pending`` (with
reasons), ``take_accounting``, ``results``. Synthetic workloads: :func:`generate_workload`,
:func:`fit_workload_model`.
"""

from computeport.simulator.engine import Engine
from computeport.simulator.metrics import GroupMetrics, Metrics, Summary, compute_metrics
from computeport.simulator.readers import FORMATS, Workload, read_trace
from computeport.simulator.records import CoreRecord, JobResult, JobStatus
from computeport.simulator.run import SimulationResult, simulate
from computeport.simulator.synthetic import WorkloadModel, fit_workload_model, generate_workload

__all__ = [
    "FORMATS",
    "CoreRecord",
    "Engine",
    "GroupMetrics",
    "JobResult",
    "JobStatus",
    "Metrics",
    "SimulationResult",
    "Summary",
    "Workload",
    "WorkloadModel",
    "compute_metrics",
    "fit_workload_model",
    "generate_workload",
    "read_trace",
    "simulate",
]
