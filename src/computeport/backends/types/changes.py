"""The typed diff from actual to desired: thirteen :data:`Change` kinds in a ``ProvisioningPlan``.

Each change says what it does in one line (``describe``), so a dry run prints the plan as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from computeport.backends.types.desired import QosLimits, ReservedCapacity

__all__ = [
    "AddMember",
    "AttachQos",
    "Change",
    "CreateAccount",
    "CreateQos",
    "CreateReservation",
    "DeferredRemoval",
    "DeleteAccount",
    "DeleteQos",
    "DeleteReservation",
    "MoveAccount",
    "MoveOrganisation",
    "ProvisioningPlan",
    "RemoveMember",
    "UpdateQos",
    "UpdateReservation",
]


@dataclass(frozen=True, slots=True)
class CreateAccount:
    name: str
    parent: str
    role: str  # "org" or "award"

    def describe(self) -> str:
        return f"+ account {self.name} ({self.role}) under {self.parent}"


@dataclass(frozen=True, slots=True)
class MoveAccount:
    name: str
    parent_before: str
    parent: str

    def describe(self) -> str:
        return f"~ account {self.name}: parent {self.parent_before} → {self.parent}"


@dataclass(frozen=True, slots=True)
class MoveOrganisation:
    """An organisation's parent account changed: its award accounts move to the new one.

    Planned when ``parent_before`` is wanted by no award any more (the organisation was given
    its own stored name, e.g. by migration 0004 after two organisations had shared a parent).
    The accounts' user associations sit under them and move with them; the old parent is then
    deleted by the same plan.  One award moving between organisations is a
    :class:`MoveAccount`.
    """

    parent_before: str
    parent: str
    accounts: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"~ organisation parent {self.parent_before} → {self.parent}: "
            f"moves {', '.join(self.accounts)}"
        )


@dataclass(frozen=True, slots=True)
class CreateQos:
    name: str
    limits: QosLimits

    def describe(self) -> str:
        return f"+ qos {self.name}: {self.limits.describe()}"


@dataclass(frozen=True, slots=True)
class UpdateQos:
    name: str
    before: QosLimits
    after: QosLimits

    def describe(self) -> str:
        return f"~ qos {self.name}: {self.before.describe()} → {self.after.describe()}"


@dataclass(frozen=True, slots=True)
class AttachQos:
    """Make ``qos`` the only and default QOS of ``account`` (its members inherit it)."""

    account: str
    qos: str

    def describe(self) -> str:
        return f"~ account {self.account}: qos = {self.qos}"


@dataclass(frozen=True, slots=True)
class AddMember:
    account: str
    user: str

    def describe(self) -> str:
        return f"+ user {self.user} in {self.account}"


@dataclass(frozen=True, slots=True)
class RemoveMember:
    account: str
    user: str

    def describe(self) -> str:
        return f"- user {self.user} from {self.account}"


@dataclass(frozen=True, slots=True)
class DeleteAccount:
    name: str

    def describe(self) -> str:
        return f"- account {self.name}"


@dataclass(frozen=True, slots=True)
class DeleteQos:
    name: str

    def describe(self) -> str:
        return f"- qos {self.name}"


@dataclass(frozen=True, slots=True)
class CreateReservation:
    reservation: ReservedCapacity

    def describe(self) -> str:
        return f"+ reservation {self.reservation.name}: {self.reservation.describe()}"


@dataclass(frozen=True, slots=True)
class UpdateReservation:
    before: ReservedCapacity
    after: ReservedCapacity

    def describe(self) -> str:
        return (
            f"~ reservation {self.after.name}: {self.before.describe()} → {self.after.describe()}"
        )


@dataclass(frozen=True, slots=True)
class DeleteReservation:
    name: str

    def describe(self) -> str:
        return f"- reservation {self.name}"


Change = (
    CreateAccount
    | MoveAccount
    | MoveOrganisation
    | CreateQos
    | UpdateQos
    | AttachQos
    | AddMember
    | RemoveMember
    | DeleteAccount
    | DeleteQos
    | CreateReservation
    | UpdateReservation
    | DeleteReservation
)


@dataclass(frozen=True, slots=True)
class DeferredRemoval:
    """An account or QOS that should go but must wait: a job of it is not yet safely in accounting.

    Slurm 22.05 cannot write out the accounting record of a job whose QOS or account was
    deleted before slurmdbd stored the job (``sacct --json`` cuts it short), so the planner
    leaves such a removal out of the plan, says why, and a later reconcile plans it again.
    """

    kind: str  # "account" or "qos"
    name: str
    reason: str

    def describe(self) -> str:
        return f"… {self.kind} {self.name}: removal deferred, {self.reason}"


@dataclass(frozen=True, slots=True)
class ProvisioningPlan:
    """The typed diff from actual to desired, in the order it must be applied.

    ``deferred`` lists the removals held back this time (not changes: nothing is applied for
    them), so a plan with only deferrals is ``empty`` yet still says what it waits for.
    """

    changes: tuple[Change, ...] = ()
    deferred: tuple[DeferredRemoval, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        lines = [c.describe() for c in self.changes] + [d.describe() for d in self.deferred]
        return lines or ["(no changes)"]
