"""Invariants over random workloads, with quotas, scavengers and every policy."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.kit.units import Quota
from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    CoreJobState,
    Estimates,
    Job,
    Placement,
    PolicyConfig,
    ProjectQuota,
)
from computeport.simulator import Engine
from tests.simulator.strategies import workloads

GPUS = 16

policies = st.builds(
    PolicyConfig,
    order=st.sampled_from(["fifo", "sjf", "multifactor"]),
    backfill=st.sampled_from(list(Backfill)),
    placement=st.sampled_from(list(Placement)),
    estimates=st.sampled_from(list(Estimates)),
)
quotas = st.dictionaries(
    st.sampled_from(["a", "b"]),
    st.builds(
        ProjectQuota,
        budget_gpu_s=st.integers(0, 4000).map(Quota.of),
        gpu_cap=st.integers(1, 16).map(Quota.of),
    ),
    max_size=2,
)


def replay(
    jobs: list[Job], policy: PolicyConfig, per_node: int, q: dict[str, ProjectQuota], indexed: bool
) -> Engine:
    engine = Engine(
        ClusterSpec.homogeneous(GPUS, per_node),
        policy,
        quotas=q,
        keep_decisions=True,
        indexed=indexed,
    )
    engine.submit_many(jobs)
    engine.run()
    return engine


@settings(max_examples=200, deadline=None)
@given(
    jobs=workloads(qos=True, limits_cover_run=True),
    policy=policies,
    per_node=st.sampled_from([4, 8]),
    q=quotas,
)
def test_invariants(
    jobs: list[Job], policy: PolicyConfig, per_node: int, q: dict[str, ProjectQuota]
) -> None:
    engine = replay(jobs, policy, per_node, q, indexed=True)
    by_id = {j.job_id: j for j in jobs}
    accounting = engine.take_accounting()
    # every attempt: after submission, a complete gang, within the cluster
    events: list[tuple[int, int]] = []
    used: dict[str, int] = defaultdict(int)
    for rec in accounting:
        job = by_id[rec.job_id]
        assert rec.start_s >= job.submit_s
        assert rec.end_s >= rec.start_s
        if policy.placement is Placement.NODE:
            need = 1 if job.gpus <= per_node else -(-job.gpus // per_node)
            assert len(set(rec.nodes)) == need
            held = job.gpus if need == 1 else need * per_node
        else:
            held = job.gpus
        if rec.end_s > rec.start_s:
            events += [(rec.start_s, held), (rec.end_s, -held)]
        used[job.account] += rec.gpu_seconds
    level = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        level += delta
        assert level <= GPUS
    # budgets (Slurm's safe rule, limits cover the run time) are never exceeded
    for account, quota in q.items():
        assert quota.budget_gpu_s.allows(used[account])
    # every job ends finished or rejected, unless a quota holds it
    for result in engine.results():
        job = by_id[result.job_id]
        if result.state is CoreJobState.PENDING:
            assert job.account in q, result
            assert result.reason in ("waiting: budget", "waiting: GPU cap"), result
        else:
            assert result.state in (CoreJobState.FINISHED, CoreJobState.REJECTED), result
            assert (result.state is CoreJobState.REJECTED) == (job.gpus > GPUS), result


@settings(max_examples=150, deadline=None)
@given(
    jobs=workloads(qos=True, limits_cover_run=True),
    policy=policies,
    per_node=st.sampled_from([4, 8]),
    q=quotas,
)
def test_index_agrees_with_scan_and_runs_are_deterministic(
    jobs: list[Job], policy: PolicyConfig, per_node: int, q: dict[str, ProjectQuota]
) -> None:
    fast = replay(jobs, policy, per_node, q, indexed=True).results()
    scan = replay(jobs, policy, per_node, q, indexed=False).results()
    again = replay(jobs, policy, per_node, q, indexed=True).results()
    assert fast == scan
    assert fast == again


@settings(max_examples=100, deadline=None)
@given(
    jobs=workloads(qos=True, limits_cover_run=True),
    policy=policies,
    cut=st.integers(0, 400),
    cancel=st.booleans(),
)
def test_starts_are_the_starts_results_report(
    jobs: list[Job], policy: PolicyConfig, cut: int, cancel: bool
) -> None:
    # Mid-run (running, pending, preempted-and-requeued scavengers, cancelled) and at the end.
    engine = Engine(ClusterSpec.homogeneous(GPUS, 4), policy)
    engine.submit_many(jobs)
    engine.run_until(cut)
    if cancel and jobs:
        engine.cancel(jobs[0].job_id)
    for _ in range(2):
        assert engine.starts() == [-1 if r.start_s is None else r.start_s for r in engine.results()]
        engine.run()
