"""Quotas, like Slurm associations and Kueue cluster queues: budgets, GPU caps, borrowing.

* GPU-hour budget per project, kept in GPU-seconds, by Slurm's ``safe`` rule: a job starts only
  if ``used + Σ remaining limits of running jobs + gpus × limit ≤ budget``. The engine keeps
  ``committed = used by ended attempts + Σ gpus × limit of running jobs`` (what has run plus what
  may still run), so the rule is ``committed + gpus × limit ≤ budget``.
* A cap on GPUs in use at once (``GrpTRES=gres/gpu=N``).
* Borrowing: scavenger jobs use idle GPUs and are preempted when entitled work needs them
  (see :mod:`computeport.scheduling.scheduler`).
"""

from __future__ import annotations

from dataclasses import dataclass

from computeport.kit.units import UNLIMITED, Quota

__all__ = ["ProjectQuota", "QuotaUse"]


@dataclass(frozen=True, slots=True)
class ProjectQuota:
    """The limits of one project (account)."""

    budget_gpu_s: Quota = UNLIMITED
    """GPU-seconds the project may consume in all (Slurm GrpTRESMins with NoDecay)."""
    gpu_cap: Quota = UNLIMITED
    """GPUs the project may hold at once."""


@dataclass(slots=True)
class QuotaUse:
    """What a project has used and holds now."""

    used_gpu_s: int = 0
    """GPU-seconds consumed by ended (finished, preempted, cancelled) attempts."""
    reserved_gpu_s: int = 0
    """Σ gpus × limit of running jobs (the ``safe`` rule's outstanding part)."""
    gpus_in_use: int = 0

    @property
    def committed_gpu_s(self) -> int:
        return self.used_gpu_s + self.reserved_gpu_s
