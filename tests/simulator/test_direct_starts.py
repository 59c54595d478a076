"""The engine's direct start of arrivals must change nothing but speed.

Under FIFO the engine starts an arriving job at once when its partition's queue is empty and
it fits (see ``Engine.run_until``), instead of queueing it for the pass. These tests replay the
same workloads with that shortcut on and off and require identical results, accounting (the
order of ended attempts, hence of completions) and pass counts.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    Estimates,
    Job,
    Placement,
    PolicyConfig,
    Qos,
)
from computeport.simulator import Engine
from computeport.simulator.records import CoreRecord, JobResult
from computeport.simulator.synthetic import generate_workload
from tests.simulator.strategies import workloads

policies = st.builds(
    PolicyConfig,
    order=st.sampled_from(["fifo", "fifo", "sjf"]),
    backfill=st.sampled_from(list(Backfill)),
    placement=st.sampled_from(list(Placement)),
    estimates=st.sampled_from(list(Estimates)),
)


def replay(
    jobs: list[Job], cluster: ClusterSpec, policy: PolicyConfig, direct: bool
) -> tuple[list[JobResult], list[CoreRecord], int]:
    engine = Engine(cluster, policy)
    engine.direct_starts = direct
    engine.submit_many(jobs)
    engine.run()
    return engine.results(), engine.take_accounting(), engine.passes


@settings(max_examples=200, deadline=None)
@given(
    jobs=workloads(max_jobs=25, qos=True),
    policy=policies,
    per_node=st.sampled_from([4, 8]),
)
def test_direct_starts_agree_with_the_queue_on_random_workloads(
    jobs: list[Job], policy: PolicyConfig, per_node: int
) -> None:
    cluster = ClusterSpec.homogeneous(16, per_node)
    assert replay(jobs, cluster, policy, True) == replay(jobs, cluster, policy, False)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), load=st.sampled_from([0.6, 0.95, 1.3]))
def test_direct_starts_agree_with_the_queue_on_synthetic_workloads(seed: int, load: float) -> None:
    jobs = generate_workload(800, 128, load=load, seed=seed)
    jobs[5] = Job("scav", jobs[5].submit_s, 4, 600, qos=Qos.SCAVENGER)  # a preemption or two
    cluster = ClusterSpec.homogeneous(128, 8)
    for placement in Placement:
        policy = PolicyConfig(placement=placement)
        on = replay(jobs, cluster, policy, True)
        off = replay(jobs, cluster, policy, False)
        assert on == off
        assert any(r.start_s == r.submit_s for r in on[0])  # the shortcut was taken


def test_online_submissions_between_instants_agree() -> None:
    """The virtual cluster's pattern: jobs submitted while the clock runs, some late."""
    cluster = ClusterSpec.homogeneous(16, 8)
    outcomes = []
    for direct in (True, False):
        engine = Engine(cluster, PolicyConfig())
        engine.direct_starts = direct
        engine.submit_many([Job(f"a{i}", i * 5, 1 + i % 8, 40 + 7 * i) for i in range(12)])
        engine.run_until(20)
        engine.submit(Job("late", 3, 6, 30))  # arrives now, ranked after earlier arrivals
        engine.submit(Job("next", 20, 2, 10))
        engine.run_until(60)
        engine.cancel("a9")
        engine.run()
        outcomes.append((engine.results(), engine.take_accounting(), engine.passes))
    assert outcomes[0] == outcomes[1]
