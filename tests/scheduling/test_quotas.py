"""Budgets (Slurm's safe rule), GPU caps, scavenger preemption, reservations and drains."""

from __future__ import annotations

from computeport.kit.units import Quota
from computeport.scheduling import (
    Action,
    ClusterSpec,
    CoreJobState,
    Job,
    Placement,
    PolicyConfig,
    ProjectQuota,
    Qos,
    Reservation,
)
from computeport.simulator import Engine

POOL = PolicyConfig(placement=Placement.POOL)


def engine(
    gpus: int,
    per_node: int = 8,
    policy: PolicyConfig | None = None,
    quotas: dict[str, ProjectQuota] | None = None,
) -> Engine:
    return Engine(
        ClusterSpec.homogeneous(gpus, per_node), policy, quotas=quotas, keep_decisions=True
    )


def p(name: str, submit: int, gpus: int, run: int, limit: int) -> Job:
    return Job(name, submit_s=submit, gpus=gpus, run_s=run, time_limit_s=limit, project="p")


class TestBudget:
    def test_safe_rule_counts_running_limits_and_never_exceeds_the_budget(self) -> None:
        # Budget 1000 GPU-s. A (1 GPU × 600 s limit) starts: committed 600. B would make it
        # 1200 > 1000 → waits "budget". C (400) fits exactly: 600 + 400 = 1000 → starts at 1.
        # When A ends, used 600 + C's 400 reserved: B (600) still does not fit → never runs.
        e = engine(8, quotas={"p": ProjectQuota(budget_gpu_s=Quota.of(1000))})
        e.submit_many([p("A", 0, 1, 600, 600), p("B", 0, 1, 600, 600), p("C", 1, 1, 400, 400)])
        e.run_until(1)
        assert e.status("B").reason == "waiting: budget"
        assert e.status("C").state is CoreJobState.RUNNING
        e.run()
        results = {r.job_id: r for r in e.results()}
        assert results["B"].state is CoreJobState.PENDING
        assert results["B"].reason == "waiting: budget"
        assert sum(rec.gpu_seconds for rec in e.take_accounting()) == 1000

    def test_raising_the_budget_releases_held_jobs(self) -> None:
        e = engine(8, quotas={"p": ProjectQuota(budget_gpu_s=Quota.of(0))})
        e.submit(p("A", 0, 2, 10, 10))
        e.run_until(5)
        assert e.status("A").reason == "waiting: budget"
        e.set_quota("p", ProjectQuota(budget_gpu_s=Quota.of(20)))
        e.run_until(6)
        assert e.status("A").state is CoreJobState.RUNNING
        assert e.status("A").start_s == 5


class TestGpuCap:
    def test_a_project_never_holds_more_gpus_than_its_cap(self) -> None:
        # Cap 2: A (2 GPUs) runs 0–10; B (1) waits "GPU cap" although 6 GPUs are idle; B@10.
        e = engine(8, quotas={"p": ProjectQuota(gpu_cap=Quota.of(2))})
        e.submit_many([p("A", 0, 2, 10, 10), p("B", 0, 1, 10, 10)])
        e.run_until(0)
        assert e.status("B").reason == "waiting: GPU cap"
        e.run()
        assert {r.job_id: r.start_s for r in e.results()} == {"A": 0, "B": 10}


class TestPreemption:
    def test_entitled_work_preempts_scavengers_which_requeue_and_lose_their_work(self) -> None:
        # S (scavenger, all 8 GPUs) runs from 0. E (paid, 4 GPUs) arrives at 10: S is
        # preempted (8 GPUs × 10 s lost), E runs 10–20, S restarts at 20 and runs 100 s again.
        e = engine(8, policy=POOL)
        e.submit_many(
            [
                Job("S", submit_s=0, gpus=8, run_s=100, qos=Qos.SCAVENGER),
                Job("E", submit_s=10, gpus=4, run_s=10, qos=Qos.PAID),
            ]
        )
        e.run_until(10)
        assert e.status("S").reason == "preempted by job E"
        preempt = [d for d in e.decisions if d.action is Action.PREEMPT]
        assert [(d.job_id, d.reason, d.at_s) for d in preempt] == [("S", "preempted by job E", 10)]
        e.run()
        results = {r.job_id: r for r in e.results()}
        assert (results["E"].start_s, results["E"].end_s) == (10, 20)
        assert (results["S"].start_s, results["S"].end_s) == (20, 120)
        assert results["S"].attempts == 2
        assert results["S"].lost_gpu_s == 80
        assert e.preemptions == 1

    def test_on_nodes_the_victim_node_is_chosen_by_best_fit(self) -> None:
        # Two nodes: S1 (scavenger, 8) on node 0, S2 (scavenger, 4) on node 1 (4 free). E (6)
        # fits nowhere. Capacity after preemption: node 0: 0 + 8, node 1: 4 + 4 — a tie, so
        # the lowest index wins: S1 is stopped and E runs on node 0; S2 keeps running.
        e = engine(16)
        e.submit_many(
            [
                Job("S1", submit_s=0, gpus=8, run_s=100, qos=Qos.SCAVENGER),
                Job("S2", submit_s=0, gpus=4, run_s=100, qos=Qos.SCAVENGER),
                Job("E", submit_s=5, gpus=6, run_s=10),
            ]
        )
        e.run_until(5)
        assert e.status("E").nodes == ("gpu-0000",)
        assert e.status("S2").state is CoreJobState.RUNNING
        assert e.status("S1").state is CoreJobState.PENDING

    def test_scavengers_do_not_block_the_queue(self) -> None:
        # A scavenger needing the whole pool waits without a reservation; later small jobs run.
        e = engine(8, policy=POOL)
        e.submit_many(
            [
                Job("A", submit_s=0, gpus=4, run_s=100),
                Job("S", submit_s=1, gpus=8, run_s=10, qos=Qos.SCAVENGER),
                Job("B", submit_s=2, gpus=4, run_s=500),
            ]
        )
        e.run()
        starts = {r.job_id: r.start_s for r in e.results()}
        assert starts == {"A": 0, "S": 502, "B": 2}


class TestReservationsAndDrains:
    def test_a_drain_keeps_jobs_that_would_run_into_it_off_the_node(self) -> None:
        # Node 1 is drained from 50. A (8) takes node 0 until 100. B (8, 100 s) would overlap
        # the drain on node 1 → waits for node 0 (100–200). C (4, 10 s) ends before 50 → node 1.
        e = engine(16)
        e.drain((1,), start_s=50)
        e.submit_many(
            [
                Job("A", submit_s=0, gpus=8, run_s=100, time_limit_s=100),
                Job("B", submit_s=0, gpus=8, run_s=100, time_limit_s=100),
                Job("C", submit_s=1, gpus=4, run_s=10, time_limit_s=10),
            ]
        )
        e.run()
        got = {r.job_id: (r.start_s, r.end_s) for r in e.results()}
        assert got == {"A": (0, 100), "B": (100, 200), "C": (1, 11)}

    def test_a_reservation_holds_nodes_for_its_project(self) -> None:
        # Node 0 is reserved for project "gov" over [0, 1000). X (other project) goes to node 1
        # and Y (other project) waits for it; G (gov) uses the reserved node at once.
        e = engine(16)
        e.add_reservation(Reservation("gov-window", 0, 1000, nodes=(0,), project="gov"))
        e.submit_many(
            [
                Job("X", submit_s=0, gpus=8, run_s=100, time_limit_s=100, project="q"),
                Job("Y", submit_s=1, gpus=8, run_s=100, time_limit_s=100, project="q"),
                Job("G", submit_s=2, gpus=8, run_s=50, time_limit_s=50, project="gov"),
            ]
        )
        e.run()
        got = {r.job_id: (r.start_s, r.end_s) for r in e.results()}
        assert got == {"X": (0, 100), "Y": (100, 200), "G": (2, 52)}

    def test_pool_reservation_withholds_gpus(self) -> None:
        e = engine(8, policy=POOL)
        e.add_reservation(Reservation("r", 0, 1000, gpus=4, project="gov"))
        e.submit_many(
            [
                Job("X", submit_s=0, gpus=6, run_s=10, project="q"),
                Job("G", submit_s=0, gpus=4, run_s=10, project="gov"),
            ]
        )
        e.run()
        got = {r.job_id: r.start_s for r in e.results()}
        # X (6) sees only 8 − 4 withheld GPUs until the window ends at 1000; G runs at once.
        assert got == {"X": 1000, "G": 0}
