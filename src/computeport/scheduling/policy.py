"""Policies, as two independent choices (like Slurm's priority and scheduler plugins).

* Queue order (:class:`QueueOrder`): :class:`Fifo` (submit time, then input position),
  :class:`Sjf` (estimate, then FIFO), :class:`Multifactor` (priority descending, then FIFO).
* Backfill (:class:`Backfill`): ``none`` (strict: stop at the first job that does not fit),
  ``easy`` or ``conservative`` (DESIGN.md "Scheduling semantics").
* Placement (:class:`Placement`): ``pool`` (a partition's GPUs are fungible) or ``node`` (best
  fit on one node; larger jobs take ``ceil(g/G)`` whole nodes, all at once).

An order returns an integer *sort key* per pending job (smaller first). Ties are impossible:
every key ends with the job's arrival rank (its position in (submit time, input position)).
Multifactor priorities change with time, so the engine re-keys the queue every
``recalc_interval_s`` (Slurm's ``PriorityCalcPeriod``, 5 minutes by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from computeport.scheduling.fairshare import DecayedUsage
from computeport.scheduling.job import Estimates, Job, Qos

__all__ = [
    "RANK_BITS",
    "Backfill",
    "Fifo",
    "Multifactor",
    "MultifactorWeights",
    "Placement",
    "PolicyConfig",
    "QueueOrder",
    "Sjf",
    "make_order",
]

RANK_BITS = 32
"""Keys are ``primary << RANK_BITS | rank``: one integer compare orders the queue."""


class Backfill(StrEnum):
    NONE = "none"
    EASY = "easy"
    CONSERVATIVE = "conservative"
    """Every pending job holds a reservation (Slurm's sched/backfill): see ``conservative``."""


class Placement(StrEnum):
    POOL = "pool"
    NODE = "node"


class QueueOrder(Protocol):
    """Orders the pending queue; ``dynamic`` orders are re-keyed periodically."""

    name: str
    dynamic: bool

    def key(self, job: Job, estimate_s: int, rank: int, now_s: int) -> int:
        """The sort key of a pending job (smaller runs first)."""
        ...


class Fifo:
    """First come, first served: (submit time, position in the input)."""

    name = "fifo"
    dynamic = False

    def key(self, job: Job, estimate_s: int, rank: int, now_s: int) -> int:
        return rank


class Sjf:
    """Shortest (estimated) job first, then FIFO: a reference point from the literature."""

    name = "sjf"
    dynamic = False

    def key(self, job: Job, estimate_s: int, rank: int, now_s: int) -> int:
        return (estimate_s << RANK_BITS) | rank


@dataclass(frozen=True, slots=True)
class MultifactorWeights:
    """Slurm-style priority weights (the defaults are written down here, DESIGN.md).

    priority = age·min(1, waited/max_age) + fairshare·2^(−U/S) + qos·qos_factor
               + job_size·gpus/cluster_gpus, truncated to an integer.
    QOS factors: subsidised 1.0 (awarded work, the scheme's purpose), paid 0.5, scavenger 0.
    """

    age: int = 1000
    fairshare: int = 10000
    qos: int = 2000
    job_size: int = 1000
    max_age_s: int = 7 * 86400
    half_life_s: int = 7 * 86400
    recalc_interval_s: int = 300
    qos_factors: tuple[tuple[Qos, float], ...] = (
        (Qos.SUBSIDISED, 1.0),
        (Qos.PAID, 0.5),
        (Qos.SCAVENGER, 0.0),
    )

    @property
    def max_priority(self) -> int:
        return self.age + self.fairshare + self.qos + self.job_size


class Multifactor:
    """Priority descending (age, fair share, QOS, size), then FIFO."""

    name = "multifactor"
    dynamic = True

    def __init__(
        self,
        weights: MultifactorWeights,
        usage: DecayedUsage,
        cluster_gpus: int,
    ) -> None:
        self.weights = weights
        self.usage = usage
        self.cluster_gpus = max(1, cluster_gpus)
        self._qos = dict(weights.qos_factors)
        self._max = weights.max_priority

    def priority(self, job: Job, now_s: int) -> int:
        w = self.weights
        age = min(1.0, max(0, now_s - job.submit_s) / w.max_age_s) if w.max_age_s > 0 else 0.0
        value = (
            w.age * age
            + w.fairshare * self.usage.factor(job.account)
            + w.qos * self._qos.get(job.qos, 0.0)
            + w.job_size * min(1.0, job.gpus / self.cluster_gpus)
        )
        return int(value)

    def key(self, job: Job, estimate_s: int, rank: int, now_s: int) -> int:
        return ((self._max - self.priority(job, now_s)) << RANK_BITS) | rank


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Every scheduling choice of a run (defaults as DESIGN.md's CLI)."""

    order: str = "fifo"
    backfill: Backfill = Backfill.EASY
    placement: Placement = Placement.NODE
    estimates: Estimates = Estimates.LIMIT
    weights: MultifactorWeights = field(default_factory=MultifactorWeights)
    shares: tuple[tuple[str, float], ...] = ()
    """Fair-share shares per account (empty: equal shares)."""
    backfill_interval_s: int = 0
    """Conservative backfill plans at most once per this many seconds per partition (Slurm's
    ``bf_interval``); 0: at every pass. A pass that skips the plan asks the engine to wake when
    it is due, as Slurm's backfill thread plans on its own timer once anything has changed."""
    backfill_resolution_s: int = 0
    """Conservative backfill's time grid (Slurm's ``bf_resolution``, 60 s by default there): the
    reservation of a job that cannot start now begins and ends at multiples of this many seconds
    of the clock, both rounded down (at least one step long), as sched/backfill's node-space map
    does. A reservation that begins before its job could is what holds back small jobs that
    would fit before it; 0: exact times."""
    start_window_s: int = 0
    """How conservative backfill estimates when running jobs free a pending job's GPUs: 0, at
    each running job's estimated end; else as Slurm's select plugin does (its will-run test,
    first window 30 s): running jobs are released in batches by estimated end — the first batch
    reaches one window past the first end rounded up to the window on the clock, each later one
    a window further, the window doubling (or growing by ``start_window_growth_s``) each time —
    and a job that fits after a batch is planned at the batch's *last* end. So when many jobs
    end on whole minutes (a burst submitted at a minute's start, limits in minutes) Slurm plans
    reservations up to a minute later than the GPUs are free, and lets more small jobs by."""
    start_window_growth_s: int = 0
    """Seconds each will-run window grows by (Slurm's ``bf_window_linear``); 0: it doubles."""

    def __post_init__(self) -> None:
        if self.order not in ("fifo", "sjf", "multifactor"):
            from computeport.kit.errors import ValidationFailed

            raise ValidationFailed(
                f"unknown policy {self.order!r} (fifo, sjf, multifactor)", field="policy"
            )


def make_order(config: PolicyConfig, usage: DecayedUsage, cluster_gpus: int) -> QueueOrder:
    """The queue order a config names."""
    if config.order == "fifo":
        return Fifo()
    if config.order == "sjf":
        return Sjf()
    return Multifactor(config.weights, usage, cluster_gpus)
