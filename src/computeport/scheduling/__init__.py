"""The scheduling core: cluster model, queue orders, backfill, placement, quotas, preemption.

Framework-free (an import-linter contract): integer seconds, no SQLAlchemy, no FastAPI.

The model: :class:`Site` → :class:`ClusterSpec` → :class:`Partition` → :class:`NodeType` →
:class:`Node`; a :class:`Job` (GPUs, nodes, time limit, real run time for replays, who pays,
:class:`Qos`, accelerator wanted). Policies are two independent choices plus placement and
estimates, gathered in :class:`PolicyConfig` (order ``fifo|sjf|multifactor``, :class:`Backfill`,
:class:`Placement`, :class:`Estimates`; multifactor weights in :class:`MultifactorWeights`).
Quotas per project: :class:`ProjectQuota` (GPU-second budget by Slurm's safe rule, GPU cap);
:class:`Reservation` withholds nodes for a project or drains them.

A :class:`Scheduler` runs one pass over a :class:`ClusterState` (the snapshot of one instant)
and returns :class:`Decision` s, each with a readable reason ("started: backfilled",
"waiting: budget", "preempted by job 812"); waiting jobs' reasons ("waiting: resources,
reserved for 14:05", "waiting: priority") come from :meth:`ClusterState.waiting_reason`.
The engine that drives it through time is :class:`computeport.simulator.Engine`.
"""

from computeport.scheduling.decision import Action, CoreJobState, Decision, format_instant
from computeport.scheduling.fairshare import DecayedUsage
from computeport.scheduling.inventory import ClusterSpec, Node, NodeType, Partition, Site
from computeport.scheduling.job import Estimates, Job, Qos, estimate_s
from computeport.scheduling.policy import (
    Backfill,
    Fifo,
    Multifactor,
    MultifactorWeights,
    Placement,
    PolicyConfig,
    QueueOrder,
    Sjf,
)
from computeport.scheduling.quota import ProjectQuota, QuotaUse
from computeport.scheduling.reservation import FOREVER, Reservation
from computeport.scheduling.scheduler import Scheduler
from computeport.scheduling.state import ClusterState, JobRun

__all__ = [
    "FOREVER",
    "Action",
    "Backfill",
    "ClusterSpec",
    "ClusterState",
    "CoreJobState",
    "DecayedUsage",
    "Decision",
    "Estimates",
    "Fifo",
    "Job",
    "JobRun",
    "Multifactor",
    "MultifactorWeights",
    "Node",
    "NodeType",
    "Partition",
    "Placement",
    "PolicyConfig",
    "ProjectQuota",
    "Qos",
    "QueueOrder",
    "QuotaUse",
    "Reservation",
    "Scheduler",
    "Site",
    "Sjf",
    "estimate_s",
    "format_instant",
]
