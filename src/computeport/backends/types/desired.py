"""The desired state a back end reconciles to: an allocation per award, a reservation per booking.

Built by the award domain (:mod:`computeport.award.desired`) and handed to
``ClusterBackend.plan``; every value validates itself, naming the field it refuses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from computeport.backends.types.names import ACCOUNT_NAME, POSIX_USER
from computeport.kit.errors import ValidationFailed

__all__ = [
    "RESERVATION_PREFIX",
    "AwardAllocation",
    "AwardState",
    "DesiredState",
    "QosLimits",
    "ReservedCapacity",
]


class AwardState(enum.StrEnum):
    """What the cluster should let an award's members do."""

    ACTIVE = "active"  # submit and run, within the GPU-minute budget
    PAUSED = "paused"  # expired, terminated, exhausted (refuse policy) or suspended: no new work


@dataclass(frozen=True, slots=True)
class AwardAllocation:
    """One award as the cluster sees it: an account under its organisation's, a budget, members.

    ``account_name`` is generated once when the award is activated and stored; the back end uses
    it both for the award's account and for its QOS.  ``gpu_minutes`` is the award's whole GPU
    budget (Slurm enforces it as ``GrpTRESMins=gres/gpu=…`` on a NoDecay QOS); ``gpu_cap`` caps
    the GPUs in use at once (``GrpTRES``), ``None`` meaning no cap.
    """

    account_name: str
    org_account: str
    members: frozenset[str]
    gpu_minutes: int
    gpu_cap: int | None = None
    state: AwardState = AwardState.ACTIVE

    def __post_init__(self) -> None:
        for fld in ("account_name", "org_account"):
            value = getattr(self, fld)
            if not ACCOUNT_NAME.match(value):
                raise ValidationFailed(
                    f"{value!r} is not a valid cluster account name "
                    "(lower-case letters, digits, '_' or '-', starting with a letter, ≤ 64)",
                    field=fld,
                )
        if self.account_name == self.org_account:
            raise ValidationFailed(
                "an award's account must differ from its organisation's", field="account_name"
            )
        for user in self.members:
            if not POSIX_USER.match(user):
                raise ValidationFailed(f"{user!r} is not a POSIX user name", field="members")
        if self.gpu_minutes < 0:
            raise ValidationFailed("GPU-minutes are never negative", field="gpu_minutes")
        if self.gpu_cap is not None and self.gpu_cap < 0:
            raise ValidationFailed("a GPU cap is never negative", field="gpu_cap")

    @property
    def limits(self) -> QosLimits:
        return QosLimits(
            gpu_minutes=self.gpu_minutes,
            gpu_cap=self.gpu_cap,
            paused=self.state is AwardState.PAUSED,
        )


RESERVATION_PREFIX = "cp_"
"""Every reservation computeport creates is named ``cp_<booking name>``: Slurm keeps no
description on a reservation, so the name is the mark, and only marked ones are ever changed or
removed (an operator's own maintenance reservations are left alone)."""


@dataclass(frozen=True, slots=True)
class ReservedCapacity:
    """Whole nodes of one partition withheld for one award's account over ``[start, end)``.

    Only jobs of ``account`` may run on the reserved nodes inside the window (Slurm:
    ``Accounts=``; the virtual cluster: the scheduling core's ``Reservation``).  Nodes, not
    GPUs, because that is what Slurm reserves and what the scheduling core withholds under node
    placement; ``gpus`` (nodes × GPUs per node) is what a reserved-capacity charge counts.
    """

    name: str
    account: str
    partition: str
    node_count: int
    start: datetime
    end: datetime
    gpus: int = 0

    def __post_init__(self) -> None:
        if not self.name.startswith(RESERVATION_PREFIX) or not ACCOUNT_NAME.match(self.name):
            raise ValidationFailed(
                f"{self.name!r} is not a computeport reservation name "
                f"({RESERVATION_PREFIX}<lower-case letters, digits, '_' or '-'>)",
                field="name",
            )
        if self.node_count <= 0:
            raise ValidationFailed("a reservation holds at least one node", field="node_count")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValidationFailed("reservation times must carry a zone", field="start")
        if self.start >= self.end:
            raise ValidationFailed("a reservation ends after it starts", field="end")

    def same_as(self, other: ReservedCapacity) -> bool:
        """Equal as the cluster keeps it: whole seconds, and without the informative ``gpus``."""
        return (
            self.name == other.name
            and self.account == other.account
            and self.partition == other.partition
            and self.node_count == other.node_count
            and self.same_start(other)
            and int(self.end.timestamp()) == int(other.end.timestamp())
        )

    def same_start(self, other: ReservedCapacity) -> bool:
        return int(self.start.timestamp()) == int(other.start.timestamp())

    def describe(self) -> str:
        return (
            f"{self.node_count} node(s) of {self.partition} for {self.account}, "
            f"{_iso(self.start)} → {_iso(self.end)}"
        )


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Every award (and reservation) the cluster should know about; anything computeport made
    beyond it goes."""

    allocations: tuple[AwardAllocation, ...] = ()
    reservations: tuple[ReservedCapacity, ...] = ()

    def __post_init__(self) -> None:
        accounts = {a.account_name for a in self.allocations}
        names: set[str] = set()
        for resv in self.reservations:
            if resv.name in names:
                raise ValidationFailed(f"reservation {resv.name!r} is desired twice", field="name")
            if resv.account not in accounts:
                raise ValidationFailed(
                    f"reservation {resv.name!r} is for {resv.account!r}, which is no desired award",
                    field="account",
                )
            names.add(resv.name)
        seen: set[str] = set()
        orgs = {a.org_account for a in self.allocations}
        for alloc in self.allocations:
            if alloc.account_name in seen:
                raise ValidationFailed(
                    f"account {alloc.account_name!r} is desired twice", field="account_name"
                )
            if alloc.account_name in orgs:
                raise ValidationFailed(
                    f"{alloc.account_name!r} is both an award and an organisation account",
                    field="account_name",
                )
            seen.add(alloc.account_name)

    @property
    def org_accounts(self) -> tuple[str, ...]:
        return tuple(sorted({a.org_account for a in self.allocations}))


@dataclass(frozen=True, slots=True)
class QosLimits:
    """The limits one award's QOS carries."""

    gpu_minutes: int
    gpu_cap: int | None
    paused: bool

    def describe(self) -> str:
        cap = "no cap" if self.gpu_cap is None else f"cap {self.gpu_cap} GPUs"
        return f"{self.gpu_minutes} GPU-min, {cap}{', paused' if self.paused else ''}"
