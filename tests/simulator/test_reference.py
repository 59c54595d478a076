"""The fast engine agrees with the brute-force reference on tiny random workloads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.scheduling import Backfill, ClusterSpec, Estimates, Job, Placement, PolicyConfig
from computeport.simulator import simulate
from tests.simulator.reference import reference
from tests.simulator.strategies import workloads

policies = st.builds(
    PolicyConfig,
    order=st.sampled_from(["fifo", "sjf"]),
    # the reference knows strict and EASY; conservative: tests/scheduling/test_conservative.py
    backfill=st.sampled_from([Backfill.NONE, Backfill.EASY]),
    placement=st.sampled_from(list(Placement)),
    estimates=st.sampled_from(list(Estimates)),
)


@settings(max_examples=150, deadline=None)
@given(jobs=workloads(), policy=policies, per_node=st.sampled_from([4, 8]))
def test_engine_matches_reference(jobs: list[Job], policy: PolicyConfig, per_node: int) -> None:
    gpus = 16
    cluster = ClusterSpec.homogeneous(gpus, per_node)
    expected = reference(jobs, gpus, per_node, policy)
    for indexed in (True, False):
        result = simulate(jobs, cluster, policy, indexed=indexed)
        got = {r.job_id: (r.start_s, r.end_s) for r in result.jobs}
        assert got == expected, f"indexed={indexed}"
