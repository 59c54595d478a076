"""The virtual cluster's accounting database: accounts, QOS and user associations.

It is the simulated twin of what ``sacctmgr`` keeps, held as the same typed rows the Slurm
back end reads (:class:`~computeport.backends.plan.ClusterAccount`,
:class:`~computeport.backends.plan.ClusterQos`), so planning uses the planner both back ends
share (:func:`~computeport.backends.plan.plan_changes`) and both produce the *same* typed plan
for the same desired and actual state.  Applying a change
that is already made is a no-op, as ``sacctmgr`` says "Nothing new added".  It also keeps
computeport's reservations (what ``scontrol show reservation`` lists on Slurm); the virtual
cluster turns them into the scheduling core's reservations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from computeport.backends.plan import (
    AWARD_DESCRIPTION,
    GPU_TRES,
    ORG_DESCRIPTION,
    ORGANIZATION,
    ActualState,
    ClusterAccount,
    ClusterQos,
)
from computeport.backends.types.changes import (
    AddMember,
    AttachQos,
    Change,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    MoveAccount,
    MoveOrganisation,
    RemoveMember,
    UpdateQos,
    UpdateReservation,
)
from computeport.backends.types.desired import QosLimits, ReservedCapacity

__all__ = ["SimAccountBook"]


def _qos_row(name: str, limits: QosLimits) -> ClusterQos:
    paused = 0 if limits.paused else None
    return ClusterQos(
        name=name,
        description=AWARD_DESCRIPTION,
        flags=frozenset({"NoDecay"}),
        grp_tres_mins={GPU_TRES: limits.gpu_minutes},
        grp_tres={} if limits.gpu_cap is None else {GPU_TRES: limits.gpu_cap},
        grp_submit_jobs=paused,
        grp_jobs=paused,
    )


@dataclass
class SimAccountBook:
    """Accounts (with their place in the tree), QOS and (account, user) associations."""

    accounts: dict[str, ClusterAccount] = field(default_factory=dict)
    qos: dict[str, ClusterQos] = field(default_factory=dict)
    members: set[tuple[str, str]] = field(default_factory=set)
    reservations: dict[str, ReservedCapacity] = field(default_factory=dict)

    def actual(self) -> ActualState:
        """The book as the Slurm back end's planner reads a cluster."""
        defaults: dict[str, str] = {}
        for account, user in sorted(self.members):
            defaults.setdefault(user, account)
        return ActualState(
            accounts=dict(self.accounts),
            qos=dict(self.qos),
            members=frozenset(self.members),
            user_default_account=defaults,
            reservations=dict(self.reservations),
        )

    def apply(self, change: Change) -> None:
        """Make one change; a change that is already made changes nothing."""
        match change:
            case CreateAccount(name=name, parent=parent, role=role):
                if name not in self.accounts:
                    descr = ORG_DESCRIPTION if role == "org" else AWARD_DESCRIPTION
                    self.accounts[name] = ClusterAccount(name, descr, ORGANIZATION, parent=parent)
            case MoveAccount(name=name, parent=parent):
                if name in self.accounts:
                    self.accounts[name] = replace(self.accounts[name], parent=parent)
            case MoveOrganisation(accounts=accounts, parent=parent):
                for name in accounts:
                    if name in self.accounts:
                        self.accounts[name] = replace(self.accounts[name], parent=parent)
            case CreateQos(name=name, limits=limits):
                self.qos.setdefault(name, _qos_row(name, limits))
            case UpdateQos(name=name, after=after):
                self.qos[name] = _qos_row(name, after)
            case AttachQos(account=account, qos=qos):
                if account in self.accounts:
                    self.accounts[account] = replace(
                        self.accounts[account], qos=frozenset({qos}), default_qos=qos
                    )
            case AddMember(account=account, user=user):
                self.members.add((account, user))
            case RemoveMember(account=account, user=user):
                self.members.discard((account, user))
            case DeleteAccount(name=name):
                self.accounts.pop(name, None)
                self.members = {(a, u) for a, u in self.members if a != name}
            case DeleteQos(name=name):
                self.qos.pop(name, None)
            case CreateReservation(reservation=resv):
                self.reservations.setdefault(resv.name, resv)
            case UpdateReservation(after=resv):
                self.reservations[resv.name] = resv
            case DeleteReservation(name=name):
                self.reservations.pop(name, None)

    def limits_of(self, account: str) -> QosLimits | None:
        """The limits of the account's QOS, ``None`` when it has none (no limits)."""
        row = self.accounts.get(account)
        if row is None or not row.default_qos or row.default_qos not in self.qos:
            return None
        return self.qos[row.default_qos].limits

    def is_member(self, account: str, user: str) -> bool:
        return (account, user) in self.members

    # -- persistence: a JSON snapshot -----------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [
                [a.name, a.description, a.organization, a.parent, sorted(a.qos), a.default_qos]
                for a in sorted(self.accounts.values(), key=lambda a: a.name)
            ],
            "qos": [
                [
                    q.name,
                    q.description,
                    sorted(q.flags),
                    dict(q.grp_tres_mins),
                    dict(q.grp_tres),
                    q.grp_submit_jobs,
                    q.grp_jobs,
                ]
                for q in sorted(self.qos.values(), key=lambda q: q.name)
            ],
            "members": sorted([a, u] for a, u in self.members),
            "reservations": [
                [
                    r.name,
                    r.account,
                    r.partition,
                    r.node_count,
                    r.start.isoformat(),
                    r.end.isoformat(),
                    r.gpus,
                ]
                for r in sorted(self.reservations.values(), key=lambda r: r.name)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimAccountBook:
        book = cls()
        for name, descr, org, parent, qos, default_qos in data["accounts"]:
            book.accounts[name] = ClusterAccount(
                name, descr, org, parent=parent, qos=frozenset(qos), default_qos=default_qos
            )
        for name, descr, flags, mins, tres, submit, jobs in data["qos"]:
            book.qos[name] = ClusterQos(
                name, descr, frozenset(flags), dict(mins), dict(tres), submit, jobs
            )
        book.members = {(a, u) for a, u in data["members"]}
        for name, account, partition, nodes, start, end, gpus in data.get("reservations", []):
            book.reservations[name] = ReservedCapacity(
                name,
                account,
                partition,
                nodes,
                datetime.fromisoformat(start),
                datetime.fromisoformat(end),
                gpus,
            )
        return book
