"""Replay a :class:`History` under a :class:`Variant`: the same calls on a fresh engine.

The history's calls are made in their order; a window ``[from_s, to_s)`` keeps every call made
before ``to_s`` (everything before the window too: the queue and the running jobs at the
window's start are part of what happened) and drops the jobs submitted at or after ``to_s``.
Then the engine runs until every kept job has ended (or can never start: a spent budget).
Causality makes the baseline exact where it can be: a start before ``to_s`` depends only on what
happened before it, so every such start of the virtual cluster is reproduced to the second.

A scenario's additions are made before the first call: reservations for a category's accounts
(the highest-numbered nodes, as the virtual cluster reserves), GPU caps (applied to every quota
the history sets for the organisation's accounts, and set at once for those without one), and
the approved applications' jobs.
"""

from __future__ import annotations

import gc
import math
from contextlib import suppress
from dataclasses import dataclass

from computeport.kit.errors import NotFound
from computeport.kit.units import UNLIMITED, Quota
from computeport.lab.changes import PENDING_CATEGORY, Variant
from computeport.lab.history import History, Member
from computeport.scheduling import FOREVER, Placement, ProjectQuota, Reservation
from computeport.simulator import Engine, JobResult

__all__ = ["Replayed", "replay"]


@dataclass(frozen=True, slots=True)
class Replayed:
    """Per-job results of one scenario (submission order) and the cluster it ran on."""

    scenario: Variant
    jobs: list[JobResult]
    gpus: int
    passes: int


def _members_with_added(history: History, scenario: Variant) -> dict[str, Member]:
    members = dict(history.members)
    for a in scenario.added:
        members[a.name] = Member(a.org or a.name, PENDING_CATEGORY)
    return members


def replay(history: History, scenario: Variant, from_s: int, to_s: int) -> Replayed:
    """Run ``history``'s calls before ``to_s`` under ``scenario``, then to the end."""
    engine = Engine(
        scenario.cluster,
        scenario.policy,
        origin_s=history.origin_s,
        quotas={},
        keep_accounting=False,
    )
    members = _members_with_added(history, scenario)
    accounts = {job.account for job in history.jobs()} | {a.name for a in scenario.added}
    caps = dict(scenario.gpu_caps)
    capped = {
        acc: caps[members[acc].org]
        for acc in accounts
        if acc in members and members[acc].org in caps
    }
    for acc, cap in sorted(capped.items()):
        engine.set_quota(acc, ProjectQuota(UNLIMITED, Quota.of(cap)))
    for i, (category, percent) in enumerate(scenario.reserve):
        admitted = frozenset(
            a for a in accounts if a in members and members[a].category == category
        )
        part = scenario.cluster.partitions[0]
        n = max(1, math.ceil(part.node_count * percent / 100))
        if scenario.policy.placement is Placement.NODE:
            nodes = tuple(range(part.node_count - n, part.node_count))
            resv = Reservation(f"lab-{i}", 0, FOREVER, nodes, 0, None, 0, admitted)
        else:
            resv = Reservation(
                f"lab-{i}", 0, FOREVER, (), n * part.node_type.gpus_per_node, None, 0, admitted
            )
        engine.add_reservation(resv)
    if scenario.added:
        engine.submit_many(scenario.added_jobs(from_s, to_s))
    collecting = gc.isenabled()
    gc.disable()  # acyclic records only (as simulate does)
    try:
        for call in history.calls:
            if call.at_s >= to_s:
                break
            kind = call.kind
            if kind == "run":
                engine.run_until(min(call.t_s, to_s))
            elif kind == "submit":
                engine.submit_many(j for j in call.jobs if j.submit_s < to_s)
            elif kind == "quota":
                assert call.quota is not None
                quota = call.quota
                if call.account in capped:
                    cap = capped[call.account]
                    if quota.gpu_cap.value is not None:
                        cap = min(cap, quota.gpu_cap.value)
                    quota = ProjectQuota(quota.budget_gpu_s, Quota.of(cap))
                engine.set_quota(call.account, quota)
            elif kind == "reserve":
                assert call.reservation is not None
                if call.reservation.partition < len(scenario.cluster.partitions):
                    engine.add_reservation(call.reservation)
            elif kind == "unreserve":
                engine.state.remove_reservation(call.name)
            elif kind == "cancel":
                with suppress(NotFound):  # a job submitted after the window
                    engine.cancel(call.name)
        engine.run()
        results = engine.results()
    finally:
        if collecting:
            gc.enable()
    return Replayed(scenario, results, scenario.cluster.gpus, engine.passes)
