"""The virtual cluster's provisioning: plan and apply against its book, then tell the core.

The book (:class:`~computeport.backends.sim.accounts.SimAccountBook`) is what ``sacctmgr``
keeps on Slurm; after each change the scheduling core's quotas and reservations are brought
into line with it (``_refresh_quotas``, ``_refresh_reservations``), which is how budgets, caps,
pauses and reserved nodes take effect.
"""

from __future__ import annotations

from computeport.backends.plan import plan_changes
from computeport.backends.sim.accounts import SimAccountBook
from computeport.backends.sim.base import SimParts
from computeport.backends.types.changes import ProvisioningPlan
from computeport.backends.types.desired import DesiredState, ReservedCapacity
from computeport.kit.clock import to_epoch_seconds
from computeport.kit.units import UNLIMITED, Quota
from computeport.scheduling import Placement, ProjectQuota, Reservation

__all__ = ["SimProvisioning"]

_CLOSED = ProjectQuota(Quota.of(0), Quota.of(0))
"""The quota of a removed account: its queued jobs never start."""


class SimProvisioning(SimParts):
    """Provisioning part of :class:`~computeport.backends.sim.backend.SimBackend`."""

    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        with self._lock:
            return plan_changes(desired, self.book.actual())

    def apply(self, plan: ProvisioningPlan) -> None:
        with self._lock:
            self._sync()
            book = SimAccountBook.from_json(self.book.to_json())
            for change in plan.changes:
                book.apply(change)
            self._record("provision", {"book": book.to_json()})

    def _book_after(self, desired: DesiredState) -> SimAccountBook:
        book = SimAccountBook.from_json(self.book.to_json())
        for change in plan_changes(desired, book.actual()).changes:
            book.apply(change)
        return book

    def _refresh_quotas(self) -> None:
        wanted: dict[str, ProjectQuota] = {}
        for name in self.book.accounts:
            limits = self.book.limits_of(name)
            if limits is None:
                continue
            if limits.paused:
                cap = Quota.of(0)
            else:
                cap = UNLIMITED if limits.gpu_cap is None else Quota.of(limits.gpu_cap)
            wanted[name] = ProjectQuota(Quota.of(limits.gpu_minutes * 60), cap)
        for name in self._quotas.keys() - wanted.keys():
            wanted[name] = _CLOSED  # a removed account's queued jobs never start
        for name, quota in sorted(wanted.items()):
            if self._quotas.get(name) != quota:
                self.engine.set_quota(name, quota)
        self._quotas = wanted
        self._awardees = self._list_awardees()
        self._refresh_reservations()

    def _refresh_reservations(self) -> None:
        """Make the scheduling core's reservations match the book's (by name)."""
        wanted = self.book.reservations
        held = self._core_reservations
        for name in sorted(held):
            if wanted.get(name) != held[name][0]:
                self.engine.remove_reservation(name)
                del held[name]
        for name, resv in sorted(wanted.items()):
            if name in held:
                continue
            core = self._core_reservation(resv)
            if core is not None:
                self.engine.add_reservation(core)
                held[name] = (resv, core)

    def _core_reservation(self, resv: ReservedCapacity) -> Reservation | None:
        base = self.inventory.base_of(resv.partition)
        if base is None:  # booking refuses unknown partitions; nothing to withhold here
            return None
        names = [p.name for p in self.inventory.spec.partitions]
        part_ix = names.index(base)
        part = self.inventory.spec.partitions[part_ix]
        start_s = to_epoch_seconds(resv.start) - self.origin_s
        end_s = to_epoch_seconds(resv.end) - self.origin_s
        if end_s <= self.engine.now_s:
            return None
        count = min(resv.node_count, part.node_count)
        if self._placement is Placement.POOL:
            gpus = count * part.node_type.gpus_per_node
            return Reservation(resv.name, start_s, end_s, (), gpus, resv.account, part_ix)
        taken = {
            n
            for _, core in self._core_reservations.values()
            if core.partition == part_ix and core.overlaps(start_s, end_s)
            for n in core.nodes
        }
        order = list(range(part.node_count - 1, -1, -1))
        free = [n for n in order if n not in taken]
        chosen = (free + [n for n in order if n in taken])[:count]
        return Reservation(
            resv.name, start_s, end_s, tuple(sorted(chosen)), 0, resv.account, part_ix
        )

    def _paused(self, account: str) -> bool:
        limits = self.book.limits_of(account)
        return limits is not None and limits.paused
