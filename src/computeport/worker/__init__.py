"""Background duties: the virtual cluster's clock, reconcile, ingest, post, close, expire, mail.

``computeport worker run`` is their process (:mod:`computeport.worker.main`); any number of them
share one PostgreSQL through duty leases with fencing tokens (:mod:`computeport.worker.leases`).
Each duty is an object with ``tick(now)`` so tests drive them with a manual clock and never sleep.
"""

from computeport.worker.leases import Lease, LeaseLost, Leases, SecondWorker
from computeport.worker.loop import Loop, Periodic
from computeport.worker.main import Worker, WorkerRound, build_worker
from computeport.worker.runner import RoundResult, WorkerThread
from computeport.worker.start import WorkerContext, build_loops

__all__ = [
    "Lease",
    "LeaseLost",
    "Leases",
    "Loop",
    "Periodic",
    "RoundResult",
    "SecondWorker",
    "Worker",
    "WorkerContext",
    "WorkerRound",
    "WorkerThread",
    "build_loops",
    "build_worker",
]
