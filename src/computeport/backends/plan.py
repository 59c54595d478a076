"""Actual → desired: the one planner both back ends use, over the accounting rows both keep.

Slurm reads its accounts, QOS and associations with ``sacctmgr`` into :class:`ActualState`; the
virtual cluster keeps the same rows in its own book.  :func:`plan_changes` diffs either against a
:class:`~computeport.backends.types.desired.DesiredState`, so the two back ends produce the
*same* typed plan for the same state and cannot drift apart.

computeport marks what it creates (``Description=computeport:…``, :data:`MANAGED_PREFIX`) and only
ever modifies or removes marked accounts and QOS; a clash with an unmarked one is a
:class:`~computeport.backends.errors.ProvisioningConflict`, not a silent takeover.  Reservations
are compared by name, and only ``cp_…`` ones are ever touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from computeport.backends.errors import ProvisioningConflict
from computeport.backends.types.changes import (
    AddMember,
    AttachQos,
    Change,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeferredRemoval,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    MoveAccount,
    MoveOrganisation,
    ProvisioningPlan,
    RemoveMember,
    UpdateQos,
    UpdateReservation,
)
from computeport.backends.types.desired import DesiredState, QosLimits, ReservedCapacity

__all__ = [
    "AWARD_DESCRIPTION",
    "GPU_TRES",
    "MANAGED_PREFIX",
    "ORGANIZATION",
    "ORG_DESCRIPTION",
    "ROOT_ACCOUNT",
    "ActualState",
    "ClusterAccount",
    "ClusterQos",
    "plan_changes",
    "removal_names",
]

MANAGED_PREFIX = "computeport:"
"""Descriptions of accounts and QOS computeport created start with this; only those are removed."""

ORG_DESCRIPTION = MANAGED_PREFIX + "org"
AWARD_DESCRIPTION = MANAGED_PREFIX + "award"
ORGANIZATION = "computeport"
ROOT_ACCOUNT = "root"
GPU_TRES = "gres/gpu"
"""The untyped GPU TRES an award's budget and cap are kept in."""


@dataclass(frozen=True, slots=True)
class ClusterAccount:
    """An account as the accounting database holds it (Slurm's ``sacctmgr``, or the sim's book)."""

    name: str
    description: str
    organization: str
    parent: str = ""
    qos: frozenset[str] = frozenset()
    default_qos: str = ""

    @property
    def managed(self) -> bool:
        return self.description.startswith(MANAGED_PREFIX)


@dataclass(frozen=True, slots=True)
class ClusterQos:
    """A QOS as the accounting database holds it; ``limits`` is the award-level view."""

    name: str
    description: str
    flags: frozenset[str]
    grp_tres_mins: Mapping[str, int]
    grp_tres: Mapping[str, int]
    grp_submit_jobs: int | None
    grp_jobs: int | None

    @property
    def managed(self) -> bool:
        return self.description.startswith(MANAGED_PREFIX)

    @property
    def limits(self) -> QosLimits:
        """The award-level view; a QOS missing its GPU-minute budget reads as 0 (no budget)."""
        return QosLimits(
            gpu_minutes=self.grp_tres_mins.get(GPU_TRES, 0),
            gpu_cap=self.grp_tres.get(GPU_TRES),
            paused=self.grp_submit_jobs == 0 or self.grp_jobs == 0,
        )


@dataclass(frozen=True, slots=True)
class ActualState:
    """What one cluster's accounting database holds now (accounts with their tree position)."""

    accounts: Mapping[str, ClusterAccount]
    qos: Mapping[str, ClusterQos]
    members: frozenset[tuple[str, str]]  # (account, user)
    user_default_account: Mapping[str, str]
    reservations: Mapping[str, ReservedCapacity] = field(default_factory=dict)
    """computeport's own reservations (``cp_…``) by name."""
    in_use: Mapping[str, str] = field(default_factory=dict)
    """Accounts and QOS (by name) that a job still needs, with why: it is pending or running,
    or has ended but is not yet in accounting.  Their removal is deferred (see
    :class:`~computeport.backends.types.changes.DeferredRemoval`).  Only the Slurm back end
    fills it, and only for names a plan would remove (``removal_names``)."""


def removal_names(plan: ProvisioningPlan) -> frozenset[str]:
    """The accounts and QOS ``plan`` deletes: the names whose jobs must be checked first."""
    return frozenset(c.name for c in plan.changes if isinstance(c, DeleteAccount | DeleteQos))


def plan_changes(desired: DesiredState, actual: ActualState) -> ProvisioningPlan:
    """The ordered changes that turn ``actual`` into ``desired``; empty when they agree."""
    creates_org: list[Change] = []
    creates_qos: list[Change] = []
    creates_award: list[Change] = []
    updates: list[Change] = []
    adds: list[Change] = []
    removes: list[Change] = []
    deletes_award: list[Change] = []
    deletes_org: list[Change] = []
    deletes_qos: list[Change] = []
    moves: list[tuple[str, str, str]] = []  # (account, parent before, parent)
    deferred: list[DeferredRemoval] = []

    for org in desired.org_accounts:
        if org not in actual.accounts:
            creates_org.append(CreateAccount(org, ROOT_ACCOUNT, "org"))
        # An existing unmarked org account is the operator's: we put awards under it, nothing more.

    for alloc in sorted(desired.allocations, key=lambda a: a.account_name):
        name = alloc.account_name
        account = actual.accounts.get(name)
        if account is None:
            creates_award.append(CreateAccount(name, alloc.org_account, "award"))
        elif not account.managed:
            raise ProvisioningConflict(
                f"Slurm account {name!r} exists but computeport did not create it "
                f"(description {account.description!r}); rename the award's account or remove it",
                field="account_name",
            )
        elif account.parent != alloc.org_account:
            moves.append((name, account.parent, alloc.org_account))

        qos = actual.qos.get(name)
        if qos is None:
            creates_qos.append(CreateQos(name, alloc.limits))
        elif not qos.managed:
            raise ProvisioningConflict(
                f"Slurm QOS {name!r} exists but computeport did not create it "
                f"(description {qos.description!r})",
                field="account_name",
            )
        elif qos.limits != alloc.limits or "NoDecay" not in qos.flags:
            updates.append(UpdateQos(name, qos.limits, alloc.limits))

        if account is None or account.qos != frozenset({name}) or account.default_qos != name:
            updates.append(AttachQos(name, name))

        have = {u for a, u in actual.members if a == name}
        adds.extend(AddMember(name, u) for u in sorted(alloc.members - have))
        removes.extend(RemoveMember(name, u) for u in sorted(have - alloc.members))

    wanted_awards = {a.account_name for a in desired.allocations}
    wanted_orgs = set(desired.org_accounts)
    updates[:0] = _plan_moves(moves, wanted_orgs)
    for name, account in sorted(actual.accounts.items()):
        if not account.managed or name in wanted_awards or name in wanted_orgs:
            continue
        if account.description == AWARD_DESCRIPTION:
            if name in actual.in_use:  # its members stay too: the job's association is kept
                deferred.append(DeferredRemoval("account", name, actual.in_use[name]))
                continue
            removes.extend(RemoveMember(name, u) for a, u in sorted(actual.members) if a == name)
            deletes_award.append(DeleteAccount(name))
        else:
            children = {
                n for n, a in actual.accounts.items() if a.parent == name and n not in wanted_awards
            }
            unmanaged_children = {n for n in children if not actual.accounts[n].managed}
            waiting = sorted(children & set(actual.in_use))
            if name in actual.in_use or waiting:
                why = actual.in_use.get(name) or f"its award account {waiting[0]} must go first"
                deferred.append(DeferredRemoval("account", name, why))
            elif not unmanaged_children and not any(
                a.org_account == name for a in desired.allocations
            ):
                removes.extend(
                    RemoveMember(name, u) for a, u in sorted(actual.members) if a == name
                )
                deletes_org.append(DeleteAccount(name))
    for name, qos in sorted(actual.qos.items()):
        if qos.managed and name not in wanted_awards:
            if name in actual.in_use:
                deferred.append(DeferredRemoval("qos", name, actual.in_use[name]))
            else:
                deletes_qos.append(DeleteQos(name))

    resv_deletes, resv_writes = _plan_reservations(desired, actual)

    return ProvisioningPlan(
        tuple(
            creates_org
            + creates_qos
            + creates_award
            + updates
            + adds
            + removes
            + resv_deletes
            + resv_writes
            + deletes_award
            + deletes_org
            + deletes_qos
        ),
        tuple(deferred),
    )


def _plan_moves(moves: list[tuple[str, str, str]], wanted_orgs: set[str]) -> list[Change]:
    """Award accounts under a new parent: per organisation when its old parent is given up.

    An old parent no award wants any more means the organisation's parent changed (it got
    its own stored name): one :class:`MoveOrganisation` per (old, new) parent pair, so a dry
    run and the audit show the organisation moving.  Otherwise a single award changed
    organisation: a :class:`MoveAccount`.
    """
    changes: list[Change] = []
    grouped: dict[tuple[str, str], list[str]] = {}
    for account, before, after in moves:
        if before and before != ROOT_ACCOUNT and before not in wanted_orgs:
            grouped.setdefault((before, after), []).append(account)
        else:
            changes.append(MoveAccount(account, before, after))
    for (before, after), accounts in sorted(grouped.items()):
        changes.append(MoveOrganisation(before, after, tuple(sorted(accounts))))
    return changes


def _plan_reservations(
    desired: DesiredState, actual: ActualState
) -> tuple[list[Change], list[Change]]:
    """Deletions first (they free nodes), then updates and creations, each by name.

    They come after the accounts (a reservation names its award's account) and before an
    award's account is deleted.  A reservation is compared as Slurm keeps it (whole seconds,
    no GPU count), so a reconcile right after applying plans nothing.
    """
    wanted = {r.name: r for r in desired.reservations}
    deletes: list[Change] = [
        DeleteReservation(name) for name in sorted(actual.reservations) if name not in wanted
    ]
    writes: list[Change] = []
    for name, want in sorted(wanted.items()):
        have = actual.reservations.get(name)
        if have is None:
            writes.append(CreateReservation(want))
        elif not have.same_as(want):
            writes.append(UpdateReservation(have, want))
    return deletes, writes
