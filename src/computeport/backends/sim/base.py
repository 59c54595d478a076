"""What every part of the virtual cluster shares: its state, declared once for the type checker.

:class:`~computeport.backends.sim.backend.SimBackend` is one object assembled from a part per
concept (provisioning, background load, views, accounting, replay; Kueue's scheduler cache is
cut the same way).  Each part inherits :class:`SimParts`, which declares the attributes the
facade's ``__init__`` sets and, for the type checker only, the methods one part calls on
another.  At run time it holds nothing, so a call is looked up as in one class and the hot paths
(``_harvest``, ``_add_record``, ``_register``) cost what they did.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from computeport.backends.sim.accounts import SimAccountBook
from computeport.backends.sim.calls import LoggedEngine
from computeport.backends.sim.inventory import SimInventory
from computeport.backends.sim.journal import Journal
from computeport.backends.sim.workload import BackgroundConfig, BackgroundStream
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.desired import ReservedCapacity
from computeport.kit.clock import Clock
from computeport.scheduling import Job, Placement, ProjectQuota, Reservation
from computeport.simulator import JobStatus

__all__ = ["JobMeta", "SimParts"]


@dataclass(slots=True)
class JobMeta:
    """What the engine's job does not carry: the Slurm-facing facts of one job."""

    name: str
    account: str
    user: str
    partition: str
    time_limit_minutes: int
    timed_out: bool
    submit_s: int
    end_s: int = -1


class SimParts:
    """The virtual cluster's state, as every part sees it (set in ``SimBackend.__init__``)."""

    inventory: SimInventory
    clock: Clock
    journal: Journal
    recent_s: int
    origin_s: int
    background: BackgroundConfig | None
    background_dropped: int
    engine: LoggedEngine
    book: SimAccountBook
    _lock: threading.RLock
    _replaying: bool
    _placement: Placement
    _core_reservations: dict[str, tuple[ReservedCapacity, Reservation]]
    _quotas: dict[str, ProjectQuota]
    _awardees: list[tuple[str, tuple[str, ...], int]]
    _meta: dict[str, JobMeta]
    _next_id: int
    _records: list[AccountingRecord]
    _record_ends: list[int]
    _requeued_at: dict[str, int]
    _starts: dict[str, int]
    _events: int
    _accelerators: dict[str, str]
    _running_view: tuple[tuple[int, ...], list[JobStatus]] | None
    _preempted: set[tuple[str, int]]
    _recent: deque[tuple[int, str]]
    _next_chunk_s: int
    _stream: BackgroundStream | None

    if TYPE_CHECKING:  # defined by one part, called by another

        @property
        def cluster(self) -> str:
            raise NotImplementedError

        def _sync(self) -> None: ...

        def _advance_to(self, t_s: int) -> None: ...

        def _at(self, t_s: int) -> datetime:
            raise NotImplementedError

        def _paused(self, account: str) -> bool:
            raise NotImplementedError

        def _register(self, job_id: str, data: dict[str, Any], at_s: int) -> Job:
            raise NotImplementedError

        def _enqueue(self, job_id: str, data: dict[str, Any], at_s: int) -> None: ...

        def _cancel(self, job_id: str) -> None: ...

        def _record(self, kind: str, data: dict[str, Any]) -> None: ...

        def _refresh_quotas(self) -> None: ...

        def _list_awardees(self) -> list[tuple[str, tuple[str, ...], int]]:
            raise NotImplementedError
