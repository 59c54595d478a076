"""Conservative backfill as Slurm's sched/backfill keeps its plan: the will-run test's batches,
the node-space map's whole nodes and boundaries, the plan on its own timer, and starts on the
node the plan found free. Each case is one that the Slurm fidelity check's recordings showed
(benchmarks/README.md), cut down to the few jobs that make the difference."""

from __future__ import annotations

from dataclasses import replace

from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    Estimates,
    Job,
    Placement,
    PolicyConfig,
)
from computeport.scheduling.conservative import batched_ends
from computeport.simulator import Engine

NODES = PolicyConfig(
    backfill=Backfill.CONSERVATIVE, placement=Placement.NODE, estimates=Estimates.LIMIT
)


def _starts(
    jobs: list[Job], policy: PolicyConfig, nodes: int, *, origin_s: int = 0
) -> dict[str, int]:
    engine = Engine(
        ClusterSpec.homogeneous(nodes * 8, 8), policy, origin_s=origin_s, keep_accounting=False
    )
    engine.submit_many(jobs)
    engine.run()
    return {r.job_id: r.start_s for r in engine.results() if r.start_s is not None}


def test_the_will_run_batches_as_slurm_releases_running_jobs() -> None:
    # The first run of the phase-0 recording: eight jobs started at :00 with limits of 1, 2
    # and 3 minutes. The first end (60) is on the 30 s window, so the first batch reaches 120
    # and every job in it is taken to end at 120, the last end of the batch; the window then
    # doubles and the 180s form the second batch.
    ends = [60, 60, 60, 60, 120, 180, 180, 180]
    assert batched_ends(ends, 0, 30) == [120] * 5 + [180] * 3
    # Fifteen seconds later on the clock the first batch stops at :30, before the jobs that
    # end a minute after the first: each is released at its own end.
    assert batched_ends(ends, 15, 30) == [60] * 4 + [120] + [180] * 3
    # The second batch reaches a doubled window past the first one's anchor (30): 90, so 70
    # and 85 go together; with bf_window_linear=5 the window grows to 40 only, and they part.
    assert batched_ends([10, 70, 85], 0, 30) == [10, 85, 85]
    assert batched_ends([10, 70, 85], 0, 30, growth=5) == [10, 70, 85]


def test_a_head_planned_by_batches_lets_a_small_job_by_only_on_the_minute() -> None:
    # Three nodes. A (node 1, 1 GPU, limit 60) and C (node 3, 8 GPUs, limit 120) run; node 2
    # is idle. H needs two whole nodes: exactly, they are free at 60 (nodes 1 and 2). T
    # (node 2 or 1, 1 GPU, limit 100) then cannot start now: it would still run at 60.
    # With the will-run batches and the burst at :00, A's end (60) is on the window, so C's
    # end (120) is in the first batch and H is planned at 120: T fits before it and starts.
    # Fifteen seconds into the minute the first batch stops before C's end: as exact.
    jobs = [
        Job("A", 0, 1, 60, time_limit_s=60),
        Job("B", 0, 7, 1, time_limit_s=60, nodes=1),  # fills node 1 beside A for a second
        Job("C", 0, 8, 120, time_limit_s=120),
        Job("D", 0, 8, 1, time_limit_s=60),  # holds node 2 for a second: H waits
        Job("H", 0, 16, 10, time_limit_s=60, nodes=2),
        Job("T", 0, 1, 100, time_limit_s=100),
    ]
    slurm = replace(NODES, start_window_s=30, backfill_interval_s=1)
    exact = _starts(jobs, replace(slurm, start_window_s=0), 3)
    assert exact["T"] >= exact["H"]
    assert _starts(jobs, slurm, 3, origin_s=15)["T"] >= exact["H"]
    on_the_minute = _starts(jobs, slurm, 3, origin_s=0)
    assert on_the_minute["T"] < on_the_minute["H"]


def test_a_planned_job_holds_its_node_whole_in_slurms_map() -> None:
    # Two nodes: A holds node 1 until 200, B 6 GPUs of node 2 until 100. F (4 GPUs) is planned
    # at 100 on node 2. T (1 GPU, limit 200) fits now on node 2's two free GPUs and, counted in
    # GPUs, beside F after 100 as well; in Slurm's node-space map F holds node 2 whole from
    # 100, so T is planned after F instead of starting now.
    jobs = [
        Job("A", 0, 8, 200, time_limit_s=200),
        Job("B", 0, 6, 100, time_limit_s=100),
        Job("F", 1, 4, 50, time_limit_s=60),
        Job("T", 2, 1, 30, time_limit_s=200),
    ]
    by_gpu = _starts(jobs, NODES, 2)
    assert by_gpu["T"] == 2
    slurm_map = _starts(jobs, replace(NODES, backfill_resolution_s=1), 2)
    assert slurm_map["T"] >= 100


def test_a_job_starting_now_must_end_before_the_next_plan_begins() -> None:
    # One node: A holds 4 GPUs until 60, H (8 GPUs) is planned at 60. T (4 GPUs, limit 58)
    # ends at 60 if it starts at 2: exactly, no overlap; Slurm's test (begin <= end) refuses.
    jobs = [
        Job("A", 0, 4, 60, time_limit_s=60),
        Job("H", 1, 8, 10, time_limit_s=60),
        Job("T", 2, 4, 58, time_limit_s=58),
    ]
    assert _starts(jobs, NODES, 1)["T"] == 2
    assert _starts(jobs, replace(NODES, backfill_resolution_s=1), 1)["T"] > 2


def test_a_skipped_plan_is_made_when_due_not_at_the_next_event() -> None:
    # bf_interval 10: the plan at 1 (when H arrived) is the last until 11. S arrives at 3 and
    # fits beside A until H's start (50); nothing happens between 3 and 50, so planning only
    # at events would start S at 50, behind H. Slurm's backfill plans again at 11.
    pool = PolicyConfig(
        backfill=Backfill.CONSERVATIVE,
        placement=Placement.POOL,
        estimates=Estimates.EXACT,
        backfill_interval_s=10,
    )
    jobs = [Job("A", 0, 6, 50), Job("H", 1, 8, 10), Job("S", 3, 2, 5)]
    assert _starts(jobs, pool, 1) == {"A": 0, "H": 50, "S": 11}


def test_a_job_started_by_the_plan_goes_where_the_plan_found_room() -> None:
    # Three nodes: C fills node 1 and A (5 GPUs) node 2 until 120, B (5 GPUs) node 3 until 300.
    # H (two whole nodes) is planned at 120 on nodes 1 and 2. X (3 GPUs, limit 180) finds 3
    # GPUs free now on nodes 2 and 3; only node 3 stays clear of H's plan, and best fit alone
    # would take node 2 (the lower index) and delay H behind X.
    jobs = [
        Job("C", 0, 8, 120, time_limit_s=120),
        Job("A", 0, 5, 120, time_limit_s=120),
        Job("B", 0, 5, 300, time_limit_s=300),
        Job("H", 1, 16, 10, time_limit_s=60, nodes=2),
        Job("X", 2, 3, 180, time_limit_s=180),
    ]
    starts = _starts(jobs, NODES, 3)
    assert starts["X"] == 2
    assert starts["H"] == 120
