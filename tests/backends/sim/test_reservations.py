"""Reservations on the virtual cluster: planned like Slurm's, honoured by the scheduling core."""

from __future__ import annotations

from datetime import timedelta

from computeport.backends import (
    CreateReservation,
    DeleteReservation,
    DesiredState,
    JobState,
    ReservedCapacity,
    UpdateReservation,
    reconcile,
)
from computeport.backends.sim.journal import MemoryJournal
from computeport.kit.clock import ManualClock
from tests.backends.sim.support import T0, award, small_cluster, spec

HOUR = timedelta(hours=1)


def _resv(
    name: str = "cp_big-run", account: str = "aw1", nodes: int = 2, start_h: int = 1, end_h: int = 5
) -> ReservedCapacity:
    return ReservedCapacity(
        name, account, "gpu", nodes, T0 + start_h * HOUR, T0 + end_h * HOUR, gpus=nodes * 8
    )


def _desired(*resv: ReservedCapacity) -> DesiredState:
    return DesiredState(
        (award("aw1", gpu_minutes=100_000), award("aw2", gpu_minutes=100_000, members=("bob",))),
        tuple(resv),
    )


def test_reconcile_creates_updates_and_removes_reservations_idempotently() -> None:
    backend = small_cluster(ManualClock(T0))
    dry = reconcile(backend, _desired(_resv()), dry_run=True)
    assert [c for c in dry.changes if isinstance(c, CreateReservation)] == [
        CreateReservation(_resv())
    ]
    assert "+ reservation cp_big-run: 2 node(s) of gpu for aw1" in "\n".join(dry.lines())
    assert backend.book.reservations == {}  # a dry run changes nothing

    reconcile(backend, _desired(_resv()))
    assert reconcile(backend, _desired(_resv())).empty

    longer = _resv(end_h=8)
    plan = reconcile(backend, _desired(longer))
    assert plan.changes == (UpdateReservation(_resv(), longer),)
    assert reconcile(backend, _desired()).changes == (DeleteReservation("cp_big-run"),)
    assert reconcile(backend, _desired()).empty


def test_only_the_awards_jobs_run_on_reserved_nodes_in_the_window() -> None:
    """4 nodes × 8 GPUs; aw1 reserves 2 nodes over [1 h, 5 h).

    At 1 h bob's (aw2) 16-GPU job fits only on the 2 unreserved nodes; a second 16-GPU aw2
    job waits although 16 GPUs are free (they are reserved), while alice's (aw1) 16-GPU job
    starts on them at once.  Before the window, aw2 may use the nodes if it ends in time.
    """
    clock = ManualClock(T0)
    backend = small_cluster(clock)
    reconcile(backend, _desired(_resv()))

    early = backend.submit(spec("aw2", user="bob", gpus=32, minutes=30, run_s=1800))
    clock.advance(timedelta(minutes=1))
    assert backend.job(early).state is JobState.RUNNING  # ends before the window: allowed

    clock.set(T0 + HOUR)
    first = backend.submit(spec("aw2", user="bob", gpus=16, minutes=240, run_s=3 * 3600))
    second = backend.submit(spec("aw2", user="bob", gpus=16, minutes=240, run_s=3 * 3600))
    clock.advance(timedelta(minutes=1))
    assert backend.job(first).state is JobState.RUNNING
    assert backend.job(second).state is JobState.PENDING
    reserved = {n for n in backend.job(first).nodes}
    assert len(reserved) == 2

    mine = backend.submit(spec("aw1", gpus=16, minutes=120, run_s=3600))
    clock.advance(timedelta(minutes=1))
    info = backend.job(mine)
    assert info.state is JobState.RUNNING
    assert set(info.nodes).isdisjoint(reserved)  # it runs on the reserved nodes
    assert backend.job(second).state is JobState.PENDING

    clock.set(T0 + 5 * HOUR + timedelta(minutes=1))  # the window is over: aw2 may use them
    assert backend.job(second).state in {JobState.RUNNING, JobState.COMPLETED}


def test_removing_a_reservation_releases_its_nodes_at_once() -> None:
    clock = ManualClock(T0 + HOUR)
    backend = small_cluster(clock)
    reconcile(backend, _desired(_resv(nodes=4)))
    waiting = backend.submit(spec("aw2", user="bob", gpus=8, minutes=60, run_s=600))
    clock.advance(timedelta(minutes=1))
    assert backend.job(waiting).state is JobState.PENDING
    reconcile(backend, _desired())
    clock.advance(timedelta(minutes=1))
    assert backend.job(waiting).state is JobState.RUNNING


def test_a_restarted_cluster_replays_its_reservations() -> None:
    clock = ManualClock(T0 + HOUR)
    journal = MemoryJournal()
    backend = small_cluster(clock, journal=journal)
    reconcile(backend, _desired(_resv(nodes=4)))
    backend.advance()

    again = small_cluster(clock, journal=journal)
    assert reconcile(again, _desired(_resv(nodes=4)), dry_run=True).empty
    waiting = again.submit(spec("aw2", user="bob", gpus=8, minutes=60, run_s=600))
    clock.advance(timedelta(minutes=1))
    assert again.job(waiting).state is JobState.PENDING
