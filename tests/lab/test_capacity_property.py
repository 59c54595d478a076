"""Adding capacity never makes a job start later — where that is a theorem, and where not.

Under FIFO without backfill and pool placement the schedule is monotone in the GPUs: by
induction over the queue, each job starts no later than before, because every job ahead of it
does and the set of GPUs free at any instant only grows. With EASY backfill it fails, and the
search below finds a case: an extra node lets a long job start early (it fits now, not only by
backfill) and then holds GPUs a later head needs (Graham's anomalies). With node placement
(strict FIFO) it is no theorem either — best fit on more nodes can leave a later whole-node job
fragmented — but a 400-example search on 2–6 nodes found no case, so no test claims one.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.lab import RecordedJob, Variant, history_of_records, replay
from computeport.lab.changes import parse_change
from computeport.scheduling import Backfill, ClusterSpec, Placement, PolicyConfig


@st.composite
def histories(draw: st.DrawFn) -> list[RecordedJob]:
    n = draw(st.integers(1, 25))
    t = 0
    out = []
    for i in range(n):
        t += draw(st.integers(0, 40))
        run = draw(st.integers(1, 120))
        gpus = draw(st.sampled_from([1, 2, 3, 4, 8, 12, 16]))
        out.append(RecordedJob(f"j{i}", "a", t, t, t + run, gpus, time_limit_s=run))
    return out


def _starts(
    records: list[RecordedJob], policy: PolicyConfig, change: str
) -> tuple[dict[str, int], dict[str, int]]:
    history = history_of_records(records, ClusterSpec.homogeneous(16, 8), policy)
    base = Variant("baseline", history.cluster, policy)
    more = parse_change(change, base, categories=set(), orgs=set(), largest_job_gpus=16)
    to_s = max(r.submit_s for r in records) + 1
    a = replay(history, base, 0, to_s)
    b = replay(history, more, 0, to_s)
    return (
        {r.job_id: r.start_s for r in a.jobs if r.start_s is not None},
        {r.job_id: r.start_s for r in b.jobs if r.start_s is not None},
    )


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(1, 4))
def test_more_nodes_never_delay_a_job_under_strict_fifo_on_a_pool(
    records: list[RecordedJob], extra: int
) -> None:
    policy = PolicyConfig(backfill=Backfill.NONE, placement=Placement.POOL)
    before, after = _starts(records, policy, f"nodes=+{extra}")
    assert before.keys() == after.keys()
    assert all(after[j] <= before[j] for j in before)


def _counterexample(policy: PolicyConfig) -> bool:
    """Whether some small history has a job delayed by an extra node under ``policy``."""
    found = []

    @settings(max_examples=400, deadline=None, database=None)
    @given(histories())
    def search(records: list[RecordedJob]) -> None:
        before, after = _starts(records, policy, "nodes=+1")
        if any(after[j] > before[j] for j in before):
            found.append(records)

    search()
    return bool(found)


def test_with_easy_backfill_more_capacity_can_delay_a_job() -> None:
    assert _counterexample(PolicyConfig(backfill=Backfill.EASY, placement=Placement.POOL))
