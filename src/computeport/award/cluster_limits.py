"""Awards → what one cluster of several should hold: reconcile per cluster, shrink-first.

With an inventory loaded, every active cluster is reconciled on its own
(:func:`desired_for_cluster`): it gets exactly the awards whose places include it (an award
limited to another cluster or site gets nothing there, so Slurm refuses its jobs: no account),
each with ``GrpTRESMins=gres/gpu=60·s`` where ``s`` is the award's share on that cluster
(:mod:`computeport.award.shares`; tranches not yet released are withheld, reserve first), and
only the reservations booked on that cluster.  With no inventory loaded, a cluster gets today's
desired state unchanged (every award, its whole released budget).

Moves are shrink-first (:func:`computeport.award.cluster_budget.limit_targets`): the limit a
cluster may act on is kept in ``award_cluster_limit``.  Before a raise is applied it is
recorded as held (:func:`hold_raises`, committed first), so a raise half-applied when the
cluster fell over still counts at its larger value; after the cluster confirmed every change
(:func:`confirm_limits`), the limits are recorded as they now are, so a shrink counts at its
old, larger value until then.  Hours moved from a cluster that cannot be reached therefore
stay frozen there and reach their new cluster only once it answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.cluster_budget import limit_targets, placed_hours
from computeport.award.desired import desired_state_from_awards
from computeport.award.shares import eligible_clusters
from computeport.backends import RESERVATION_PREFIX, DesiredState, ReservedCapacity
from computeport.models.award import Award
from computeport.models.award_share import AwardShare
from computeport.models.centre import CentreCluster
from computeport.models.cluster_marks import AwardClusterLimit
from computeport.models.metering import UsageRecord
from computeport.models.reservation import AwardReservation
from computeport.progress.tranches import released_gpu_hours

__all__ = [
    "AwardBudget",
    "award_budgets",
    "confirm_limits",
    "desired_for_cluster",
    "hold_raises",
    "inventory_loaded",
]


@dataclass(frozen=True)
class AwardBudget:
    """One award across the clusters, in GPU-minutes."""

    award_id: uuid.UUID
    account: str
    total: int
    """60 × the GPU-hours released so far (all types: Slurm's ``gres/gpu`` is untyped)."""
    wanted: dict[str, int]
    """Per eligible cluster: 60 × its shares (0 where the award may run but holds none)."""
    held: dict[str, int]
    """Per cluster: the limit it may act on now (``award_cluster_limit``)."""
    used: dict[str, int]
    """Per cluster: the GPU-minutes ingested from it so far (a lowered limit keeps them)."""

    def target(self, cluster: str) -> int:
        return limit_targets(self.wanted, self.held, self.total, self.used).get(cluster, 0)


def inventory_loaded(session: Session) -> bool:
    return session.scalar(select(CentreCluster.id).limit(1)) is not None


def _shares(session: Session, line_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(CentreCluster.name, AwardShare.gpu_hours)
        .join(CentreCluster, CentreCluster.id == AwardShare.cluster_id)
        .where(AwardShare.award_line_id == line_id)
    )
    return {name: int(hours) for name, hours in rows}


def _budget(session: Session, award: Award) -> AwardBudget:
    released = released_gpu_hours(session, award)
    wanted: dict[str, int] = {}
    for line in award.lines:
        shares = _shares(session, line.id)
        for name in eligible_clusters(session, award.id, line.accelerator_type):
            wanted.setdefault(name, 0)
        placed = placed_hours(
            line.gpu_hours,
            released.get(line.accelerator_type, 0),
            line.reserve_hours,
            shares,
        )
        for name, hours in placed.items():
            wanted[name] = wanted.get(name, 0) + 60 * hours
    held = {
        row.cluster: int(row.gpu_minutes)
        for row in session.scalars(
            select(AwardClusterLimit)
            .where(AwardClusterLimit.award_id == award.id)
            .execution_options(populate_existing=True)
        )
    }
    used = {
        cluster: -(-int(seconds or 0) // 60)
        for cluster, seconds in session.execute(
            select(UsageRecord.cluster, func.sum(UsageRecord.gpu_seconds))
            .where(UsageRecord.account == award.slurm_account)
            .group_by(UsageRecord.cluster)
        )
    }
    total = 60 * sum(released.values())
    return AwardBudget(award.id, award.slurm_account, total, wanted, held, used)


def award_budgets(session: Session) -> dict[str, AwardBudget]:
    """Every award's budget across the clusters, by its account name."""
    awards = session.scalars(select(Award).order_by(Award.slurm_account))
    return {a.slurm_account: _budget(session, a) for a in awards}


def desired_for_cluster(session: Session, now: datetime, cluster: str) -> DesiredState:
    """What cluster ``cluster`` should hold at ``now`` (see the module docstring)."""
    every = desired_state_from_awards(session, now)
    if not inventory_loaded(session):
        return every
    budgets = award_budgets(session)
    allocations = tuple(
        replace(a, gpu_minutes=budgets[a.account_name].target(cluster))
        for a in every.allocations
        if cluster in budgets[a.account_name].wanted
    )
    kept = {a.account_name for a in allocations}
    return DesiredState(allocations, _reservations_on(session, every, cluster, kept))


def _reservations_on(
    session: Session, every: DesiredState, cluster: str, accounts: set[str]
) -> tuple[ReservedCapacity, ...]:
    here = set(
        session.scalars(select(AwardReservation.name).where(AwardReservation.cluster == cluster))
    )
    return tuple(
        r
        for r in every.reservations
        if r.account in accounts and r.name.removeprefix(RESERVATION_PREFIX) in here
    )


def _write(
    session: Session, award_id: uuid.UUID, cluster: str, minutes: int, *, ok: bool, at: datetime
) -> None:
    row = session.get(AwardClusterLimit, (award_id, cluster), populate_existing=True)
    if row is None:
        session.add(
            AwardClusterLimit(
                award_id=award_id, cluster=cluster, gpu_minutes=minutes, confirmed=ok, at=at
            )
        )
    else:
        row.gpu_minutes, row.confirmed, row.at = minutes, ok, at


def hold_raises(session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
    """Before applying ``state``: every raise counts at its new value from now on."""
    if not inventory_loaded(session):
        return
    budgets = award_budgets(session)
    for alloc in state.allocations:
        budget = budgets.get(alloc.account_name)
        if budget is not None and alloc.gpu_minutes > budget.held.get(cluster, 0):
            _write(session, budget.award_id, cluster, alloc.gpu_minutes, ok=False, at=at)
    session.flush()


def confirm_limits(session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
    """After the cluster applied all of ``state``: its limits are what ``state`` says (an
    award absent from it holds nothing there any more)."""
    if not inventory_loaded(session):
        return
    budgets = award_budgets(session)
    given = {a.account_name: a.gpu_minutes for a in state.allocations}
    for account, budget in budgets.items():
        if account in given:
            _write(session, budget.award_id, cluster, given[account], ok=True, at=at)
        elif cluster in budget.held:
            _write(session, budget.award_id, cluster, 0, ok=True, at=at)
    session.flush()
