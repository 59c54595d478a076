"""``computeport award reserve | reservations | unreserve``: an award's reserved capacity.

The commands join the ``award`` group (:func:`register`).  Each is one unit of work: it commits
on success and writes nothing on any error (message + exit code 2).  Booking checks the
deployment's cluster inventory: with the ``slurm`` back end it asks Slurm for the partitions;
with the embedded virtual cluster it reads the cluster's inventory (the Cyberport scenario)
without starting the cluster.
"""

from __future__ import annotations

import contextlib
import uuid

import typer
from rich.table import Table
from sqlalchemy import or_, select

from computeport.award.reservations import (
    Capacity,
    PartitionCapacity,
    ReservationIn,
    book_reservation,
    cancel_reservation,
    reservation_read,
)
from computeport.cli.award import _actor, _award, clock_for, parse_when
from computeport.cli.common import command_session, console, fail
from computeport.kit.errors import NotFound
from computeport.models.reservation import AwardReservation
from computeport.settings import Settings

__all__ = ["deployment_capacity", "register"]


def deployment_capacity(settings: Settings) -> Capacity:
    """The partitions a booking may use on this deployment's cluster."""
    if settings.backend == "slurm":
        from computeport.backends.slurm import SlurmBackend, SlurmConfig

        config = SlurmConfig(cluster=settings.slurm_cluster, slurm_conf=settings.slurm_conf)
        return Capacity.from_backend(SlurmBackend(config))
    from computeport.backends.sim.inventory import cyberport_inventory

    inventory = cyberport_inventory()
    partitions: dict[str, PartitionCapacity] = {}
    for name in inventory.partition_names():
        base = inventory.base_of(name)
        assert base is not None
        part = inventory.partition(base)
        partitions[name] = PartitionCapacity(
            name,
            part.node_count,
            part.node_type.gpus_per_node,
            part.node_type.accelerator.lower(),
        )
    return Capacity(inventory.cluster, partitions)


def reserve_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    name: str = typer.Option(
        ..., help="Reservation name (a-z, 0-9, '_', '-'); cp_<name> on Slurm."
    ),
    partition: str = typer.Option(..., help="Partition to reserve nodes of."),
    start: str = typer.Option(..., help="Start (ISO 8601 with a zone, or a date)."),
    end: str = typer.Option(..., help="End (ISO 8601), after the start."),
    nodes: int | None = typer.Option(None, help="Whole nodes to reserve."),
    gpus: int | None = typer.Option(None, help="GPUs to reserve (whole nodes' worth)."),
    accelerator_type: str | None = typer.Option(None, help="e.g. h800 (default: the partition's)."),
    reason: str = typer.Option("", help="Why (kept in the audit trail)."),
    as_user: str | None = typer.Option(None, "--as", help="Operator's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Book whole nodes of a partition for an award over [start, end)."""
    try:
        body = ReservationIn(
            name=name,
            partition=partition,
            accelerator_type=accelerator_type,
            nodes=nodes,
            gpus=gpus,
            starts_at=parse_when(start, option="--start"),
            ends_at=parse_when(end, option="--end"),
            reason=reason,
        )
    except ValueError as exc:
        raise fail(_first_error(exc)) from None
    clock = clock_for(now)
    settings = Settings()
    with command_session(settings) as session:
        target = _award(session, award)
        row = book_reservation(
            session,
            target.id,
            body,
            _actor(session, as_user),
            clock,
            deployment_capacity(settings),
        )
        console.print(
            f"reserved [bold]{row.name}[/] for {target.reference}: {row.nodes} node(s) "
            f"({row.gpus} {row.accelerator_type} GPUs) of {row.partition}, "
            f"{row.starts_at:%Y-%m-%dT%H:%M:%SZ} → {row.ends_at:%Y-%m-%dT%H:%M:%SZ}"
        )


def reservations_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """List an award's reservations (booked, active, ended, cancelled)."""
    clock = clock_for(now)
    with command_session() as session:
        target = _award(session, award)
        rows = session.scalars(
            select(AwardReservation)
            .where(AwardReservation.award_id == target.id)
            .order_by(AwardReservation.starts_at)
        )
        table = Table("name", "state", "partition", "nodes", "GPUs", "start", "end", "GPU-hours")
        for row in rows:
            read = reservation_read(row, clock.now())
            table.add_row(
                read.name,
                read.state,
                read.partition,
                str(read.nodes),
                str(read.gpus),
                f"{read.starts_at:%Y-%m-%d %H:%M}",
                f"{read.ends_at:%Y-%m-%d %H:%M}",
                f"{read.reserved_gpu_seconds / 3600:,.1f}",
            )
        console.print(table)


def unreserve_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    name: str = typer.Argument(..., help="Reservation name or id."),
    reason: str = typer.Option("", help="Why (kept in the audit trail)."),
    as_user: str | None = typer.Option(None, "--as", help="Operator's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Cancel a reservation before its start, or cut it short inside its window."""
    clock = clock_for(now)
    with command_session() as session:
        target = _award(session, award)
        match = AwardReservation.name == name
        with contextlib.suppress(ValueError):
            match = or_(match, AwardReservation.id == uuid.UUID(name))
        stmt = select(AwardReservation.id).where(AwardReservation.award_id == target.id, match)
        found = session.scalars(stmt).first()
        if found is None:
            raise NotFound(f"award {target.reference} has no reservation {name!r}", field="name")
        row = cancel_reservation(session, target.id, found, _actor(session, as_user), clock, reason)
        state = reservation_read(row, clock.now()).state
        console.print(f"{row.name}: {'cancelled' if state == 'cancelled' else 'cut short'}")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        option = {"starts_at": "--start", "ends_at": "--end"}.get(where, f"--{where}")
        return f"{option.replace('_', '-')}: {first.get('msg', exc)}"
    return str(exc)


def register(award_app: typer.Typer) -> None:
    """Add the reservation commands to the ``award`` group."""
    award_app.command("reserve")(reserve_command)
    award_app.command("reservations")(reservations_command)
    award_app.command("unreserve")(unreserve_command)
