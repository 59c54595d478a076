"""Hand-checked schedules, one per policy and placement. Each expected start is worked out in
the comment above it (t = seconds; nodes of 8 GPUs numbered from 0)."""

from __future__ import annotations

from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    Estimates,
    Job,
    Placement,
    PolicyConfig,
)
from computeport.simulator import simulate


def times(
    jobs: list[Job], gpus: int, per_node: int, policy: PolicyConfig
) -> dict[str, tuple[int | None, int | None]]:
    result = simulate(jobs, ClusterSpec.homogeneous(gpus, per_node), policy)
    return {r.job_id: (r.start_s, r.end_s) for r in result.jobs}


def job(name: str, submit: int, gpus: int, run: int, limit: int = 0) -> Job:
    return Job(name, submit_s=submit, gpus=gpus, run_s=run, time_limit_s=limit)


# Two 8-GPU nodes; limits are twice the run time.
FIVE = [
    job("A", 0, 8, 100, 200),
    job("B", 10, 4, 50, 100),
    job("C", 20, 16, 30, 60),
    job("D", 30, 1, 20, 40),
    job("E", 40, 2, 500, 1000),
]


class TestFifoStrictNode:
    def test_the_queue_stops_at_the_first_job_that_does_not_fit(self) -> None:
        # A@0 on node 0, B@10 on node 1. C needs both nodes whole: blocked at 20, and strict
        # FIFO keeps D and E behind it. B ends 60, A ends 100 → C@100–130. Then D@130 on
        # node 0 (best fit: both free, lowest index) and E@130 on node 0 too (7 free < 8).
        got = times(FIVE, 16, 8, PolicyConfig(backfill=Backfill.NONE))
        assert got == {
            "A": (0, 100),
            "B": (10, 60),
            "C": (100, 130),
            "D": (130, 150),
            "E": (130, 630),
        }


class TestFifoEasyNode:
    def test_backfill_ends_before_the_shadow_or_waits(self) -> None:
        # C blocked at 20; by estimates B ends 110 (node 1 whole), A ends 200 (node 0 whole):
        # shadow 200, pinned (0, 1). D@30: 30 + 40 ≤ 200 → backfills on node 1 (4 free, best
        # fit). E@40: 40 + 1000 > 200 and every node is pinned → waits. C@100, E@130.
        got = times(FIVE, 16, 8, PolicyConfig())
        assert got == {
            "A": (0, 100),
            "B": (10, 60),
            "C": (100, 130),
            "D": (30, 50),
            "E": (130, 630),
        }

    def test_a_job_ending_exactly_at_the_shadow_backfills(self) -> None:
        # A holds node 0 until 100 (estimate 100); B needs both nodes: shadow 100, pinned
        # (0, 1). C needs 90 s from 10: 10 + 90 = 100 ≤ 100 → starts at 10 on node 1.
        # D needs 91 s from 10: 101 > 100 → waits for B (100–110) and runs 110–201.
        jobs = [
            job("A", 0, 8, 100, 100),
            job("B", 5, 16, 10, 10),
            job("C", 10, 8, 90, 90),
            job("D", 10, 8, 91, 91),
        ]
        got = times(jobs, 16, 8, PolicyConfig())
        assert got == {"A": (0, 100), "B": (100, 110), "C": (10, 100), "D": (110, 201)}

    def test_only_unpinned_nodes_take_long_jobs(self) -> None:
        # Three nodes. A (8) takes node 0 and B (4) node 1 until 100 (estimates 100). C needs
        # two whole nodes: node 2 is whole now, nodes 0 and 1 at 100 → shadow 100, pinned the
        # two lowest: (0, 1). D (4, 1000 s)@2 cannot end by 100 but fits on unpinned node 2 →
        # starts; E (2)@3 and F (1)@4 likewise (node 2: 4, then 2, then 1 free). G (4)@5 would
        # fit on pinned node 1 (4 free) but not on node 2 → waits. C@100–110, G@110 on node 0.
        jobs = [
            job("A", 0, 8, 100, 100),
            job("B", 0, 4, 100, 100),
            job("C", 1, 16, 10, 10),
            job("D", 2, 4, 1000, 1000),
            job("E", 3, 2, 1000, 1000),
            job("F", 4, 1, 1000, 1000),
            job("G", 5, 4, 1000, 1000),
        ]
        got = times(jobs, 24, 8, PolicyConfig())
        assert got == {
            "A": (0, 100),
            "B": (0, 100),
            "C": (100, 110),
            "D": (2, 1002),
            "E": (3, 1003),
            "F": (4, 1004),
            "G": (110, 1110),
        }


class TestFifoEasyPool:
    def test_leftover_gpus_at_the_shadow_take_long_jobs(self) -> None:
        # 16 GPUs. A(8)@0 until 100, B(6)@0 until 50: 2 free. C(12)@1 blocked: at 50 (B) 8
        # free, at 100 (A) 16 → shadow 100, leftover 4. D(2, 500 s)@2: too long, 2 ≤ 4 → starts,
        # leftover 2. At 50 B ends: C still blocked (6 free); new pass: shadow 100, leftover
        # 16 − 2 (D) − 12 = 2. F(2, 500 s)@60 takes it. G(1, 10 s)@70 ends by 100 → starts.
        # H(1, 100 s)@71: too long, no leftover → waits. A ends 100 → C@100–110, H@110.
        jobs = [
            job("A", 0, 8, 100, 100),
            job("B", 0, 6, 50, 50),
            job("C", 1, 12, 10, 10),
            job("D", 2, 2, 500, 500),
            job("F", 60, 2, 500, 500),
            job("G", 70, 1, 10, 10),
            job("H", 71, 1, 100, 100),
        ]
        got = times(jobs, 16, 8, PolicyConfig(placement=Placement.POOL))
        assert got == {
            "A": (0, 100),
            "B": (0, 50),
            "C": (100, 110),
            "D": (2, 502),
            "F": (60, 560),
            "G": (70, 80),
            "H": (110, 210),
        }


class TestSjf:
    def test_shortest_estimate_first(self) -> None:
        # 4 GPUs, all jobs take all of them. A runs 0–100; at 100 C (estimate 10) goes before
        # B (estimate 50): C 100–110, B 110–160. FIFO would run B first.
        jobs = [job("A", 0, 4, 100, 100), job("B", 1, 4, 50, 50), job("C", 2, 4, 10, 10)]
        sjf = times(jobs, 4, 4, PolicyConfig(order="sjf", placement=Placement.POOL))
        fifo = times(jobs, 4, 4, PolicyConfig(order="fifo", placement=Placement.POOL))
        assert sjf == {"A": (0, 100), "B": (110, 160), "C": (100, 110)}
        assert fifo == {"A": (0, 100), "B": (100, 150), "C": (150, 160)}

    def test_exact_estimates_use_the_run_time(self) -> None:
        # With exact estimates B's 500 s limit is ignored: B (run 5) goes before C (run 10).
        jobs = [job("A", 0, 4, 100, 100), job("B", 1, 4, 5, 500), job("C", 2, 4, 10, 10)]
        policy = PolicyConfig(order="sjf", placement=Placement.POOL, estimates=Estimates.EXACT)
        assert times(jobs, 4, 4, policy) == {"A": (0, 100), "B": (100, 105), "C": (105, 115)}


class TestMultifactor:
    def test_fair_share_puts_the_light_user_first(self) -> None:
        # x runs A on all 4 GPUs 0–1000. B (x) and C (y) wait. At 1000 priorities are
        # recalculated (every 300 s): x used 4000 GPU-s, y nothing → F(x) = 2^(−1/1) = 0.5,
        # F(y) = 1 → C first (1000–1010), then B (1010–1020), although B was submitted first.
        jobs = [
            Job("A", submit_s=0, gpus=4, run_s=1000, project="x"),
            Job("B", submit_s=1, gpus=4, run_s=10, project="x"),
            Job("C", submit_s=2, gpus=4, run_s=10, project="y"),
        ]
        got = times(jobs, 4, 4, PolicyConfig(order="multifactor", placement=Placement.POOL))
        assert got == {"A": (0, 1000), "B": (1010, 1020), "C": (1000, 1010)}


class TestRejection:
    def test_jobs_larger_than_the_cluster_are_rejected_and_the_run_goes_on(self) -> None:
        jobs = [job("big", 0, 17, 10), job("gang", 0, 24, 10), job("ok", 1, 16, 10)]
        result = simulate(jobs, ClusterSpec.homogeneous(16, 8), PolicyConfig())
        assert result.metrics.rejected == ["big", "gang"]
        assert [r.reason for r in result.jobs[:2]] == ["rejected: larger than the cluster"] * 2
        assert (result.jobs[2].start_s, result.jobs[2].end_s) == (1, 11)
        assert result.metrics.to_dict()["rejected"] == 2
