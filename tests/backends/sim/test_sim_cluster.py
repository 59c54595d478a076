"""The virtual cluster's own behaviour: accelerated time, budgets, accounting, restarts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from computeport.backends import (
    AwardAllocation,
    AwardState,
    DesiredState,
    JobRejected,
    JobState,
    PendingReason,
    reconcile,
)
from computeport.backends.sim import MemoryJournal, SimBackend, cyberport_inventory
from computeport.backends.sim.store import SqlJournal
from computeport.backends.sim.workload import BackgroundConfig
from computeport.db.engine import make_session_factory
from computeport.kit.clock import AcceleratedClock, ManualClock
from computeport.models.sim_cluster import SimCluster
from computeport.simulator.synthetic import WorkloadModel
from tests.backends.sim.support import T0, award, provision, settler, small_cluster, spec


def test_the_cyberport_inventory_is_3000_pflops_of_h800() -> None:
    inv = cyberport_inventory()
    assert inv.spec.gpus == 3040
    assert 3000 <= inv.spec.pflops <= 3020
    assert inv.partition_names() == ["gpu", "scavenger"]


def test_an_accelerated_clock_runs_a_simulated_day_per_wall_minute() -> None:
    wall = ManualClock(T0)
    clock = AcceleratedClock(T0, speed=1440, monotonic=wall)
    backend = small_cluster(ManualClock(T0))
    backend.clock = clock
    provision(backend, award())
    job_id = backend.submit(spec(run_s=6 * 3600, minutes=8 * 60))
    assert backend.job(job_id).state is JobState.RUNNING
    wall.advance(timedelta(seconds=14))  # 14 wall seconds = 5.6 simulated hours
    assert backend.job(job_id).state is JobState.RUNNING
    wall.advance(timedelta(seconds=1))  # 6 simulated hours
    info = backend.job(job_id)
    assert info.state is JobState.COMPLETED
    assert info.end_time == T0 + timedelta(hours=6)
    assert backend.advance() == T0 + timedelta(hours=6)


def test_a_job_over_the_remaining_budget_waits_with_slurms_reason() -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock)
    provision(backend, award(gpu_minutes=8 * 90))  # 12 GPU-hours
    first = backend.submit(spec(gpus=8, minutes=60, run_s=1800))
    second = backend.submit(spec(gpus=8, minutes=60, run_s=1800))
    # safe rule: 8 GPUs x 60 min reserved for the first; the second's 480 more would pass 720
    assert backend.job(first).state is JobState.RUNNING
    waiting = backend.job(second)
    assert (waiting.state, waiting.reason) == (JobState.PENDING, "QOSGrpGRESMinutes")
    assert waiting.pending_reason is PendingReason.BUDGET
    clock.advance(timedelta(minutes=30))  # the first ends having used 240 GPU-minutes
    assert backend.job(second).state is JobState.RUNNING


def test_more_budget_releases_a_waiting_job() -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock)
    provision(backend, award(gpu_minutes=60))
    job_id = backend.submit(spec(gpus=8, minutes=60))
    assert backend.job(job_id).pending_reason is PendingReason.BUDGET
    provision(backend, award(gpu_minutes=8 * 60))
    assert backend.job(job_id).state is JobState.RUNNING


def test_a_paused_award_refuses_jobs_and_holds_its_queue() -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock, nodes=1)
    provision(backend, award())
    running = backend.submit(spec(gpus=8))
    queued = backend.submit(spec(gpus=8))
    paused = AwardAllocation("aw1", "orga", frozenset({"alice"}), 6000, state=AwardState.PAUSED)
    provision(backend, paused)
    with pytest.raises(JobRejected):
        backend.submit(spec())
    clock.advance(timedelta(minutes=15))
    assert backend.job(running).state is JobState.COMPLETED
    held = backend.job(queued)
    assert (held.reason, held.pending_reason) == ("QOSGrpJobsLimit", PendingReason.PAUSED)


def test_a_gpu_cap_limits_gpus_in_use() -> None:
    backend = small_cluster(ManualClock(T0))
    provision(backend, AwardAllocation("aw1", "orga", frozenset({"alice"}), 6000, gpu_cap=8))
    backend.submit(spec(gpus=8))
    second = backend.job(backend.submit(spec(gpus=8)))
    assert (second.reason, second.pending_reason) == ("QOSGrpGRES", PendingReason.LIMIT)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"partition": "nope"}, "partition"),
        ({"gpu_type": "mi300x"}, "gpu_type"),
        ({"gpus": 64}, "gpus"),
        ({"account": "aw9"}, "account"),
        ({"user": "mallory"}, "account"),
    ],
)
def test_submissions_the_cluster_cannot_take_are_rejected_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    backend = small_cluster(ManualClock(T0))
    provision(backend, award())
    args: dict[str, Any] = {"account": "aw1", "gpus": 8}
    args.update(change)
    with pytest.raises(JobRejected) as caught:
        backend.submit(spec(**args))
    assert caught.value.field == field


def test_a_job_past_its_limit_times_out_and_is_accounted_at_the_limit() -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock)
    provision(backend, award())
    job_id = backend.submit(spec(gpus=4, minutes=10, run_s=3600))
    clock.advance(timedelta(minutes=11))
    assert backend.job(job_id).state is JobState.TIMEOUT
    (record,) = backend.accounting(T0, clock.now())
    assert (record.state, record.elapsed_seconds, record.gpu_seconds) == (
        JobState.TIMEOUT,
        600,
        2400,
    )


@settings(max_examples=25, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(st.sampled_from([1, 2, 4, 8, 16]), st.integers(60, 7200), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_every_finished_job_has_exactly_one_matching_record(
    jobs: list[tuple[int, int, bool]],
) -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock)
    provision(backend, award(gpu_minutes=10**9))
    ids = []
    for gpus, run_s, cancel in jobs:
        job_id = backend.submit(spec(gpus=gpus, run_s=run_s, minutes=120))
        ids.append(job_id)
        clock.advance(timedelta(seconds=90))
        if cancel:
            backend.cancel(job_id)
    clock.advance(timedelta(days=1))
    records = backend.accounting(T0, clock.now())
    assert [(r.end_time, int(r.job_id)) for r in records] == sorted(
        (r.end_time, int(r.job_id)) for r in records
    )
    by_id = {r.job_id: r for r in records}
    assert len(by_id) == len(records)
    for job_id in ids:
        info = backend.job(job_id)
        assert info.state.finished
        if info.start_time is None:  # cancelled while pending: nothing ran, nothing to bill
            assert job_id not in by_id
            continue
        rec = by_id[job_id]
        assert (rec.start_time, rec.end_time, rec.state) == (
            info.start_time,
            info.end_time,
            info.state,
        )
        assert rec.start_time is not None
        elapsed = (rec.end_time - rec.start_time).total_seconds()
        assert rec.gpu_seconds == rec.gpus * rec.elapsed_seconds == info.gpus * elapsed


def test_a_preempted_scavenger_attempt_is_its_own_record() -> None:
    clock = ManualClock(T0)
    backend = small_cluster(clock, nodes=1)
    provision(backend, award())
    scav = backend.submit(spec(gpus=8, partition="scavenger", run_s=3600, minutes=120))
    clock.advance(timedelta(minutes=5))
    backend.submit(spec(gpus=8, run_s=600))
    assert backend.job(scav).state is JobState.PENDING
    clock.advance(timedelta(hours=3))
    records = [r for r in backend.accounting(T0, clock.now()) if r.job_id == scav]
    assert [r.state for r in records] == [JobState.PREEMPTED, JobState.COMPLETED]
    assert records[0].key != records[1].key  # a requeue gets its own submit time
    assert records[1].partition == "scavenger"


SMALL_JOBS = WorkloadModel(
    sizes=((4, 0.5), (8, 0.4), (16, 0.1)), log_run_mean=8.0, log_run_sigma=1.0
)
"""Sizes and run times that suit an 8-node test cluster (the real fit has 128-GPU jobs)."""


def _busy_cluster(
    clock: ManualClock, journal: MemoryJournal | SqlJournal, days: int = 10
) -> SimBackend:
    allocs = tuple(
        AwardAllocation(f"aw{i}", "orga", frozenset({f"user{i}"}), 64 * 60 * 24 * 60)
        for i in range(3)
    )
    return small_cluster(
        clock,
        nodes=8,
        journal=journal,
        epoch=T0 - timedelta(days=days),
        background=BackgroundConfig(model=SMALL_JOBS, block_jobs=200),
        initial=DesiredState(allocs),
    )


def _snapshot(backend: SimBackend) -> tuple[object, ...]:
    return (
        backend.jobs(),
        backend.accounting(T0 - timedelta(days=30), backend.clock.now()),
        backend.nodes(),
    )


def test_history_mode_fills_the_past_and_keeps_the_centre_busy() -> None:
    clock = ManualClock(T0)
    backend = _busy_cluster(clock, MemoryJournal(), days=20)
    backend.advance()
    records = backend.accounting(T0 - timedelta(days=20), T0)
    assert len(records) > 500
    start = min(r.submit_time for r in records)
    assert start < T0 - timedelta(days=19)  # the past is full
    samples = []
    for _ in range(48):  # then it goes on live, busy
        clock.advance(timedelta(hours=1))
        samples.append(backend.utilisation())
    assert sum(samples) / len(samples) > 0.75


def _restart_case(
    journal_a: MemoryJournal | SqlJournal, journal_b: MemoryJournal | SqlJournal
) -> None:
    clock = ManualClock(T0)
    first = _busy_cluster(clock, journal_a)
    mine = first.submit(spec("aw0", user="user0", gpus=8, run_s=7200, minutes=180))
    clock.advance(timedelta(minutes=30))
    cancelled = first.submit(spec("aw1", user="user1", gpus=16, run_s=7200, minutes=180))
    first.cancel(cancelled)
    clock.advance(timedelta(minutes=7))
    first.advance()
    before = _snapshot(first)
    again = _busy_cluster(clock, journal_b)
    assert again.now == first.now
    assert _snapshot(again) == before
    assert again.job(mine) == first.job(mine)
    assert again.job(cancelled).state is JobState.CANCELLED
    # and both go on identically
    clock.advance(timedelta(hours=5))
    assert _snapshot(again) == _snapshot(first)


def test_a_restart_replays_the_journal_to_the_same_state() -> None:
    journal = MemoryJournal()
    _restart_case(journal, journal)


def test_the_journal_survives_in_the_database(committed_engine: Engine) -> None:
    sessions = make_session_factory(committed_engine)
    _restart_case(SqlJournal(sessions), SqlJournal(sessions))


def test_reconcile_is_idempotent_and_survives_a_restart() -> None:
    clock = ManualClock(T0)
    journal = MemoryJournal()
    backend = small_cluster(clock, journal=journal)
    desired = DesiredState((award(),))
    assert not reconcile(backend, desired).empty
    again = small_cluster(clock, journal=journal)
    assert again.plan(desired).empty
    settle = settler(clock)
    job_id = again.submit(spec())
    assert settle(lambda: again.job(job_id).state.finished, 3600)


def test_the_cluster_never_waits_on_the_database(committed_engine: Engine) -> None:
    sessions = make_session_factory(committed_engine)
    journal = SqlJournal(sessions)
    clock = ManualClock(T0)
    backend = small_cluster(clock, journal=journal)
    provision(backend, award())
    backend.advance()
    assert journal.pending == 0
    with sessions.begin() as busy:  # a request holding the write lock (e.g. a token's last use)
        busy.execute(update(SimCluster).values(position_s=SimCluster.position_s))
        job_id = backend.submit(spec())
        assert journal.pending == 1  # queued, not written: the request is not kept waiting
    clock.advance(timedelta(minutes=5))
    backend.advance()  # the worker's tick writes it
    assert journal.pending == 0
    again = small_cluster(clock, journal=SqlJournal(sessions))
    assert again.job(job_id) == backend.job(job_id)
