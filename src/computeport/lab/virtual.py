"""The virtual cluster's history (the demo): its engine call log and its real starts."""

from __future__ import annotations

from collections.abc import Mapping

from computeport.backends.sim.backend import SimBackend
from computeport.lab.history import History, Member

__all__ = ["history_of_virtual_cluster"]


def history_of_virtual_cluster(
    backend: SimBackend, members: Mapping[str, Member] | None = None
) -> History:
    """Everything the virtual cluster did so far, as a replayable :class:`History`."""
    with backend._lock:
        backend._sync()
        engine = backend.engine
        starts = {r.job_id: r.start_s for r in engine.results() if r.start_s is not None}
        return History(
            engine.cluster,
            engine.policy,
            backend.origin_s,
            tuple(engine.calls),
            dict(members or {}),
            starts,
            engine.now_s,
        )
