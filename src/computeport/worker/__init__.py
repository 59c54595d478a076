"""Background loops: the virtual cluster's clock, reconcile, ingest, posting, expiry, e-mail.

``start_background(state)`` starts them on a thread for ``computeport serve``; each loop is an
object with ``tick(now)`` so tests drive them with a manual clock and never sleep.
"""

from computeport.worker.loop import Loop, Periodic
from computeport.worker.runner import RoundResult, WorkerThread
from computeport.worker.start import WorkerContext, build_loops, start_background

__all__ = [
    "Loop",
    "Periodic",
    "RoundResult",
    "WorkerContext",
    "WorkerThread",
    "build_loops",
    "start_background",
]
