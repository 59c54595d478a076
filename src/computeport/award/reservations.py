"""Reserved capacity for an award: book, list and unreserve whole nodes over a window.

An operator books nodes of one partition for an award over ``[starts_at, ends_at)`` (a large
training run booked ahead, a government priority window).  The booking is stored and audited
here; the reconcile loop turns it into the cluster's reservation (desired state), and where
the award's terms say ``charge_reservations`` metering charges the reserved GPU-hours once the
window has ended (:mod:`computeport.metering.reservations`).

Checks, each naming its field: the award is active; the window lies inside the award's dates
and has not begun; the partition exists and has the accelerator type; whole nodes (a GPU count
must fill whole nodes, as Slurm and the scheduling core reserve nodes); the name is free; the
award's own bookings do not overlap; and the partition's nodes are not over-booked by all
awards' bookings at any instant of the window (peak concurrent nodes).  The award row is
locked, so two bookings of one award cannot race past the overlap check; on PostgreSQL a
transaction-scoped advisory lock per (cluster, partition) serialises bookings of different
awards on the same partition, so they cannot together over-book it (SQLite serialises its
writers anyway).

Unreserve: before the start the booking is cancelled (never charged); inside the window it is
cut short at that instant (``ends_at`` moves, ``booked_ends_at`` keeps the booking); after the
end it stays as it was — the charge refers to it.  An award that is terminated or expires
gives back what it still holds the same way (:func:`release_reservations`); a suspended one
keeps its bookings.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.award.errors import ReservationNotFound
from computeport.award.repository import get_readable, lock_award
from computeport.backends import RESERVATION_PREFIX, ClusterBackend, PartitionInfo
from computeport.identity.subject import Subject
from computeport.kit.clock import Clock
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.kit.inputs import InputModel
from computeport.kit.instants import UtcDatetime
from computeport.models.award import Award, AwardStatus
from computeport.models.reservation import AwardReservation

__all__ = [
    "Capacity",
    "PartitionCapacity",
    "ReservationIn",
    "ReservationRead",
    "book_reservation",
    "cancel_reservation",
    "list_reservations",
    "release_reservations",
    "reservation_read",
]

ReservationName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_-]{0,44}$",
        examples=["llm-pretrain-dec"],
        description="Lower-case letters, digits, '_' or '-' (≤ 45); on the cluster cp_<name>.",
    ),
]


class ReservationIn(InputModel):
    """A booking: ``nodes`` or ``gpus`` (whole nodes' worth) of a partition over a window."""

    model_config = ConfigDict(extra="forbid")

    name: ReservationName
    partition: str = Field(min_length=1, max_length=64)
    accelerator_type: str | None = Field(default=None, max_length=32)
    nodes: int | None = Field(default=None, gt=0, le=100_000)
    gpus: int | None = Field(default=None, gt=0, le=1_000_000)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: str = Field(default="", max_length=2000)


class ReservationRead(BaseModel):
    id: uuid.UUID
    award_id: uuid.UUID
    name: str
    cluster_name: str
    """The reservation's name on the cluster (``cp_<name>``)."""
    cluster: str
    partition: str
    accelerator_type: str
    nodes: int
    gpus: int
    starts_at: datetime
    ends_at: datetime
    booked_ends_at: datetime
    reserved_gpu_seconds: int
    state: str
    """``booked`` (not begun), ``active``, ``ended`` or ``cancelled`` (before it began)."""
    reason: str
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class PartitionCapacity:
    name: str
    nodes: int
    gpus_per_node: int
    accelerator: str


@dataclass(frozen=True, slots=True)
class Capacity:
    """The partitions a booking may draw on (from the cluster back end's inventory)."""

    cluster: str
    partitions: dict[str, PartitionCapacity]

    @classmethod
    def of(cls, cluster: str, partitions: Iterable[PartitionInfo]) -> Capacity:
        out: dict[str, PartitionCapacity] = {}
        for p in partitions:
            if not p.nodes or p.gpus <= 0:
                continue  # a partition without GPUs cannot be reserved for GPU-hours
            accel = p.gpu_types[0] if p.gpu_types else ""
            out[p.name] = PartitionCapacity(p.name, len(p.nodes), p.gpus // len(p.nodes), accel)
        return cls(cluster, out)

    @classmethod
    def from_backend(cls, backend: ClusterBackend) -> Capacity:
        return cls.of(backend.cluster, backend.partitions())


def _state(row: AwardReservation, now: datetime) -> str:
    if row.cancelled_at is not None and row.cancelled_at <= row.starts_at:
        return "cancelled"
    if now < row.starts_at:
        return "booked"
    return "active" if now < row.ends_at else "ended"


def is_void(row: AwardReservation) -> bool:
    """Cancelled before it began: withheld nothing, charged nothing."""
    return row.cancelled_at is not None and row.cancelled_at <= row.starts_at


def reserved_gpu_seconds(row: AwardReservation) -> int:
    if is_void(row):
        return 0
    return row.gpus * int((row.ends_at - row.starts_at).total_seconds())


def reservation_read(row: AwardReservation, now: datetime) -> ReservationRead:
    return ReservationRead(
        id=row.id,
        award_id=row.award_id,
        name=row.name,
        cluster_name=RESERVATION_PREFIX + row.name,
        cluster=row.cluster,
        partition=row.partition,
        accelerator_type=row.accelerator_type,
        nodes=row.nodes,
        gpus=row.gpus,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        booked_ends_at=row.booked_ends_at,
        reserved_gpu_seconds=reserved_gpu_seconds(row),
        state=_state(row, now),
        reason=row.reason,
        cancelled_at=row.cancelled_at,
    )


def _live(session: Session, *where: ColumnElement[bool]) -> list[AwardReservation]:
    stmt = select(AwardReservation).where(*where).order_by(AwardReservation.starts_at)
    return [r for r in session.scalars(stmt) if not is_void(r)]


def _peak_nodes(rows: Sequence[AwardReservation], start: datetime, end: datetime) -> int:
    """Most nodes the rows hold at once within ``[start, end)`` (a sweep over their edges)."""
    edges: list[tuple[datetime, int]] = []
    for r in rows:
        lo, hi = max(r.starts_at, start), min(r.ends_at, end)
        if lo < hi:
            edges += [(lo, r.nodes), (hi, -r.nodes)]
    peak = held = 0
    for _, delta in sorted(edges, key=lambda e: (e[0], e[1])):  # ends (−) before starts
        held += delta
        peak = max(peak, held)
    return peak


def _lock_partition(session: Session, cluster: str, partition: str) -> None:
    """Serialise bookings on one partition until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"reservation|{cluster}|{partition}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def book_reservation(
    session: Session,
    award_id: uuid.UUID,
    body: ReservationIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
    capacity: Capacity,
) -> AwardReservation:
    """Validate and store one booking (audited); the caller's unit of work commits.

    The checks run in the order the module docstring lists them, so the first one that
    fails names its field.
    """
    # 1. Lock the award: two bookings of one award cannot race past the overlap check.
    award = lock_award(session, award_id)
    now = clock.now()
    # 2. The award is active; the window lies inside its dates and has not begun.
    _check_window(award, body.starts_at, body.ends_at, now)
    # 3. The partition exists (locked against other awards' bookings) and has the type.
    part = _partition(session, capacity, body.partition)
    accel = _accelerator(part, body.accelerator_type)
    # 4. Whole nodes, no more than the partition has.
    nodes = _nodes(part, body)
    # 5. The name is free; no overlap with the award's bookings; the partition not over-booked.
    _check_free(session, award, capacity.cluster, part, body, nodes)
    # 6. Store and audit.
    row = AwardReservation(
        award_id=award.id,
        name=body.name,
        cluster=capacity.cluster,
        partition=part.name,
        accelerator_type=accel,
        nodes=nodes,
        gpus=nodes * part.gpus_per_node,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        booked_ends_at=body.ends_at,
        reason=body.reason,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        row,
        "reserved",
        actor_id,
        f"{nodes} node(s) of {part.name} for {award.reference}, {body.starts_at.isoformat()} → "
        f"{body.ends_at.isoformat()}" + (f": {body.reason}" if body.reason else ""),
        now,
    )
    return row


def _check_window(award: Award, start: datetime, end: datetime, now: datetime) -> None:
    """The award is active and ``[start, end)`` lies inside its dates, not yet begun."""
    if award.status is not AwardStatus.ACTIVE:
        raise Conflict(
            f"award {award.reference} is {award.status.value}: only an active award can "
            "reserve capacity",
            field="award_id",
        )
    if start >= end:
        raise ValidationFailed("a reservation ends after it starts", field="ends_at")
    if start < now:
        raise ValidationFailed(
            f"a reservation cannot start in the past (now is {now.isoformat()})", field="starts_at"
        )
    if start < award.starts_at:
        raise ValidationFailed(
            f"the award starts {award.starts_at.isoformat()}: the reservation must start inside it",
            field="starts_at",
        )
    if end > award.ends_at:
        raise ValidationFailed(
            f"the award ends {award.ends_at.isoformat()}: the reservation must end inside it",
            field="ends_at",
        )


def _partition(session: Session, capacity: Capacity, name: str) -> PartitionCapacity:
    """The named GPU partition, locked until the transaction ends (see _lock_partition)."""
    part = capacity.partitions.get(name)
    if part is None:
        known = ", ".join(sorted(capacity.partitions)) or "none"
        raise ValidationFailed(
            f"cluster {capacity.cluster} has no GPU partition {name!r} (it has {known})",
            field="partition",
        )
    _lock_partition(session, capacity.cluster, part.name)
    return part


def _accelerator(part: PartitionCapacity, requested: str | None) -> str:
    """The booking's accelerator type: the partition's, or the requested one if it matches."""
    accel = (requested or part.accelerator).lower()
    if part.accelerator and accel != part.accelerator.lower():
        raise ValidationFailed(
            f"partition {part.name} has {part.accelerator} GPUs, not {accel}",
            field="accelerator_type",
        )
    return accel


def _nodes(part: PartitionCapacity, body: ReservationIn) -> int:
    """The booking's node count: ``nodes``, or ``gpus`` filling whole nodes."""
    if (body.nodes is None) == (body.gpus is None):
        raise ValidationFailed("give either nodes or gpus (exactly one)", field="nodes")
    if body.gpus is not None:
        if body.gpus % part.gpus_per_node:
            raise ValidationFailed(
                f"reservations are whole nodes: {body.gpus} GPUs is not a multiple of the "
                f"{part.gpus_per_node} GPUs per node of {part.name}",
                field="gpus",
            )
        nodes = body.gpus // part.gpus_per_node
    else:
        assert body.nodes is not None
        nodes = body.nodes
    if nodes > part.nodes:
        raise ValidationFailed(
            f"partition {part.name} has {part.nodes} nodes; {nodes} cannot be reserved",
            field="gpus" if body.gpus is not None else "nodes",
        )
    return nodes


def _check_free(
    session: Session,
    award: Award,
    cluster: str,
    part: PartitionCapacity,
    body: ReservationIn,
    nodes: int,
) -> None:
    """Refuse a taken name, an overlap with the award's bookings, or an over-booking of the
    partition by all awards' bookings at any instant of the window (peak concurrent nodes)."""
    start, end = body.starts_at, body.ends_at
    if session.scalar(select(AwardReservation.id).where(AwardReservation.name == body.name)):
        raise Conflict(f"a reservation named {body.name!r} exists already", field="name")
    for other in _live(session, AwardReservation.award_id == award.id):
        if other.starts_at < end and start < other.ends_at:
            raise Conflict(
                f"overlaps the award's reservation {other.name!r} "
                f"[{other.starts_at.isoformat()}, {other.ends_at.isoformat()})",
                field="starts_at",
            )
    on_partition = _live(
        session,
        AwardReservation.cluster == cluster,
        AwardReservation.partition == part.name,
        AwardReservation.starts_at < end,
        AwardReservation.ends_at > start,
    )
    peak = _peak_nodes(on_partition, start, end)
    if peak + nodes > part.nodes:
        raise Conflict(
            f"partition {part.name} has {part.nodes} nodes and up to {peak} are reserved in that "
            f"window: {nodes} more do not fit",
            field="nodes",
        )


def list_reservations(
    session: Session, subject: Subject, award_id: uuid.UUID
) -> list[AwardReservation]:
    """The award's bookings, if the subject may read the award (404 otherwise)."""
    award = get_readable(session, subject, award_id)
    stmt = (
        select(AwardReservation)
        .where(AwardReservation.award_id == award.id)
        .order_by(AwardReservation.starts_at, AwardReservation.id)
    )
    return list(session.scalars(stmt))


def cancel_reservation(
    session: Session,
    award_id: uuid.UUID,
    reservation_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    clock: Clock,
    reason: str = "",
) -> AwardReservation:
    """Unreserve: cancel before the start, cut short inside the window; audited."""
    lock_award(session, award_id)
    row = session.scalars(
        select(AwardReservation).where(
            AwardReservation.id == reservation_id, AwardReservation.award_id == award_id
        )
    ).one_or_none()
    if row is None:
        raise ReservationNotFound(
            f"award {award_id} has no reservation {reservation_id}", field="reservation_id"
        )
    now = clock.now()
    if row.cancelled_at is not None:
        raise Conflict(f"reservation {row.name!r} was cancelled already", field="reservation_id")
    if now >= row.ends_at:
        raise Conflict(
            f"reservation {row.name!r} ended {row.ends_at.isoformat()}; it stays on the record",
            field="reservation_id",
        )
    _unreserve(session, row, actor_id, now, reason)
    return row


def _unreserve(
    session: Session, row: AwardReservation, actor_id: uuid.UUID | None, now: datetime, why: str
) -> None:
    row.cancelled_at = now
    if now > row.starts_at:
        row.ends_at = now
        what = f"cut short at {now.isoformat()}"
    else:
        what = "cancelled before its start"
    session.flush()
    record_event(session, row, "unreserved", actor_id, what + (f": {why}" if why else ""), now)


def release_reservations(
    session: Session, award_id: uuid.UUID, actor_id: uuid.UUID | None, now: datetime, why: str
) -> list[AwardReservation]:
    """An award that ends (terminated, expired) gives back the nodes it still holds: bookings
    not yet begun are cancelled, a running one is cut short at ``now`` (and, under
    ``charge_reservations``, charged up to there only).  The caller holds the award's lock.
    A suspended award keeps its bookings: a suspension is lifted when the co-payment arrives."""
    rows = session.scalars(
        select(AwardReservation)
        .where(
            AwardReservation.award_id == award_id,
            AwardReservation.cancelled_at.is_(None),
            AwardReservation.ends_at > now,
        )
        .order_by(AwardReservation.starts_at)
    ).all()
    for row in rows:
        _unreserve(session, row, actor_id, now, why)
    return list(rows)
