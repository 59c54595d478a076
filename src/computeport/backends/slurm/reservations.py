"""Slurm reservations: read ``scontrol show reservation --oneliner``, write ``scontrol`` argv.

Slurm 22.05's ``scontrol`` has no ``--json`` for reservations, so the one-line-per-reservation
text is parsed (``Key=Value`` words; recorded output in the tests).  Times are printed in the
client's local time: the runner sets ``TZ=UTC``, so they are read as UTC.

Only reservations named ``cp_…`` (:data:`~computeport.backends.types.desired.RESERVATION_PREFIX`)
are computeport's; the others (an operator's maintenance window) are not read into the actual
state at all, so the planner can never change or remove them.  A reservation is whole nodes
(``NodeCnt=``) of one partition for one award account (``Accounts=``); Slurm picks the nodes.
``Flags=MAGNETIC`` lets the award's jobs land in it without naming it (seen on the local test
cluster: the award's job ran on the reserved node, another account's job waited with
``ReqNodeNotAvail``).

Idempotence: creating one that exists says "Duplicate reservation name", deleting one that is
gone says "Requested reservation is invalid"; :func:`already_done` treats both as success.
"""

from __future__ import annotations

from datetime import UTC, datetime

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.types.changes import (
    CreateReservation,
    DeleteReservation,
    UpdateReservation,
)
from computeport.backends.types.desired import RESERVATION_PREFIX, ReservedCapacity
from computeport.kit.errors import ValidationFailed

__all__ = [
    "SHOW_RESERVATIONS",
    "already_done",
    "parse_reservations",
    "reservation_argv",
    "slurm_time",
]

SHOW_RESERVATIONS = ("scontrol", "show", "reservation", "--oneliner")
_NONE = "No reservations in the system"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
FLAGS = "MAGNETIC"
"""The award's jobs use the reservation without asking for it (``--reservation``), as on the
virtual cluster; everyone else's jobs stay off the reserved nodes inside the window."""
_ALREADY = ("Duplicate reservation name", "Requested reservation is invalid")


def slurm_time(when: datetime) -> str:
    """An instant as ``scontrol`` takes it under ``TZ=UTC`` (whole seconds)."""
    return when.astimezone(UTC).strftime(_TIME_FORMAT)


def _fields(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in line.split():
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value
    return out


def _time(value: str | None, name: str, line_no: int) -> datetime:
    try:
        if value is None:
            raise ValueError("missing")
        return datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BackendOutputInvalid(
            f"scontrol show reservation, line {line_no}: {name}={value!r} is not a time",
            field=name,
        ) from None


def parse_reservations(text: str) -> dict[str, ReservedCapacity]:
    """computeport's reservations (``cp_…``) by name; everyone else's are skipped."""
    out: dict[str, ReservedCapacity] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(_NONE):
            continue
        f = _fields(line)
        name = f.get("ReservationName")
        if name is None:
            raise BackendOutputInvalid(
                f"scontrol show reservation, line {line_no}: no ReservationName",
                field="ReservationName",
            )
        if not name.startswith(RESERVATION_PREFIX):
            continue
        accounts = [a for a in f.get("Accounts", "").split(",") if a and a != "(null)"]
        count = f.get("NodeCnt", "")
        partition = f.get("PartitionName", "")
        if not count.isdigit():
            raise BackendOutputInvalid(
                f"scontrol show reservation, line {line_no}: NodeCnt={count!r}", field="NodeCnt"
            )
        try:
            out[name] = ReservedCapacity(
                name=name,
                account=accounts[0] if len(accounts) == 1 else ",".join(accounts),
                partition="" if partition == "(null)" else partition,
                node_count=int(count),
                start=_time(f.get("StartTime"), "StartTime", line_no),
                end=_time(f.get("EndTime"), "EndTime", line_no),
            )
        except ValidationFailed as exc:
            raise BackendOutputInvalid(
                f"scontrol show reservation, line {line_no}: {exc.message}", field=exc.field
            ) from None
    return out


def reservation_argv(
    change: CreateReservation | UpdateReservation | DeleteReservation,
) -> list[str]:
    """The one ``scontrol`` command that makes ``change`` (argv, never a shell string)."""
    match change:
        case CreateReservation(reservation=r):
            return [
                "scontrol",
                "create",
                "reservation",
                f"ReservationName={r.name}",
                f"Accounts={r.account}",
                f"StartTime={slurm_time(r.start)}",
                f"EndTime={slurm_time(r.end)}",
                f"NodeCnt={r.node_count}",
                f"PartitionName={r.partition}",
                f"Flags={FLAGS}",
            ]
        case UpdateReservation(before=b, after=r):
            # Slurm refuses to move the start of a reservation that is already active, so
            # the start is only named when it changes (an unreserve mid-window moves the end).
            start = [] if b.same_start(r) else [f"StartTime={slurm_time(r.start)}"]
            return [
                "scontrol",
                "update",
                f"ReservationName={r.name}",
                f"Accounts={r.account}",
                *start,
                f"EndTime={slurm_time(r.end)}",
                f"NodeCnt={r.node_count}",
            ]
        case DeleteReservation(name=name):
            return ["scontrol", "delete", f"ReservationName={name}"]
    raise AssertionError(f"not a reservation change: {change!r}")  # pragma: no cover


def already_done(said: str) -> bool:
    """Slurm's words for "that reservation is already as asked" (create twice, delete twice)."""
    return any(s in said for s in _ALREADY)
