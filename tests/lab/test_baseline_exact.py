"""The baseline replay of the virtual cluster's history reproduces every start to the second.

The virtual cluster runs the same scheduling core; its call log holds the budgets, cancels and
same-second arrival order, so any difference here is a bug (in the log or in the replay).
"""

from __future__ import annotations

from datetime import timedelta

from computeport.backends import AwardAllocation, DesiredState
from computeport.backends.sim import MemoryJournal, SimBackend
from computeport.backends.sim.workload import BackgroundConfig
from computeport.kit.clock import ManualClock
from computeport.lab import Member, run_study
from computeport.lab.virtual import history_of_virtual_cluster
from tests.backends.sim.support import T0, small_cluster, spec
from tests.backends.sim.test_sim_cluster import SMALL_JOBS

DAY = 86400
MEMBERS = {
    "aw0": Member("Transport Dept", "government"),
    "aw1": Member("TinyLLM Ltd", "startup"),
    "aw2": Member("HKU", "university"),
}


def _busy(clock: ManualClock, journal: MemoryJournal) -> SimBackend:
    # aw0's budget is small, so its background jobs are held ("budget") part of the time
    allocs = tuple(
        AwardAllocation(
            f"aw{i}", "orga", frozenset({f"user{i}"}), 64 * 60 * 24 * (2 if i == 0 else 30)
        )
        for i in range(3)
    )
    return small_cluster(
        clock,
        nodes=8,
        journal=journal,
        epoch=T0 - timedelta(days=12),
        background=BackgroundConfig(model=SMALL_JOBS, block_jobs=200),
        initial=DesiredState(allocs),
    )


def test_the_baseline_reproduces_every_start_of_the_virtual_cluster() -> None:
    clock = ManualClock(T0)
    backend = _busy(clock, MemoryJournal())
    backend.advance()
    portal = backend.submit(spec("aw1", user="user1", gpus=16, minutes=600, run_s=3000))
    cancelled = backend.submit(spec("aw2", user="user2", gpus=8, minutes=60, run_s=1800))
    clock.advance(timedelta(minutes=7))
    backend.cancel(cancelled)
    clock.advance(timedelta(hours=6))
    backend.advance()
    history = history_of_virtual_cluster(backend, MEMBERS)
    assert {c.kind for c in history.calls} >= {"run", "submit", "quota", "cancel"}

    study = run_study(history, 4 * DAY, history.end_s, [])

    fidelity = study.baseline
    assert fidelity.compared > 1000
    assert fidelity.exact == fidelity.compared
    assert fidelity.max_abs_start_error_s == 0
    assert portal in {j.job_id for j in history.jobs()}


def test_a_restarted_cluster_keeps_a_history_that_replays_exactly() -> None:
    clock = ManualClock(T0)
    journal = MemoryJournal()
    _busy(clock, journal).advance()
    clock.advance(timedelta(hours=2))
    restarted = _busy(clock, journal)  # the journal replay makes the same engine calls
    restarted.advance()
    history = history_of_virtual_cluster(restarted, MEMBERS)
    study = run_study(history, 6 * DAY, history.end_s, ["reserve=government:25"])
    assert study.baseline.exact == study.baseline.compared > 500
    assert [o.name for o in study.outcomes] == ["baseline", "reserve=government:25"]
