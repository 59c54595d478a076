"""One scheduling pass per case, as a table (Kueue's ``scheduler_test.go``): the cluster, the
jobs running and pending at ``now``, and what the pass decides.

Each case runs twice: through the per-shape index and through the queue-scanning reference
path (``Scheduler(indexed=False)``); both must decide the same. Every expectation is worked out
by hand from DESIGN.md "Scheduling semantics" in the comment above the case (t = seconds; nodes
of 8 GPUs numbered from 0; a job's estimate is its limit). Decisions read
``start A on 0`` (strict pass), ``backfill B on 1`` (EASY backfill), ``wait B (why)`` (held by
its quota) and ``preempt S (why)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from computeport.kit.units import Quota
from computeport.scheduling import (
    FOREVER,
    Action,
    Backfill,
    ClusterSpec,
    ClusterState,
    Decision,
    Placement,
    PolicyConfig,
    ProjectQuota,
    Qos,
    Scheduler,
)
from tests.factories.scheduling import JobBuilder, job

NODE_EASY = PolicyConfig()
NODE_STRICT = PolicyConfig(backfill=Backfill.NONE)
POOL_EASY = PolicyConfig(placement=Placement.POOL)
POOL_STRICT = PolicyConfig(placement=Placement.POOL, backfill=Backfill.NONE)


@dataclass(frozen=True)
class Case:
    pending: list[JobBuilder]
    running: list[JobBuilder] = field(default_factory=list)
    now: int = 0
    gpus: int = 16
    policy: PolicyConfig = NODE_EASY
    quotas: dict[str, ProjectQuota] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    """GPU-seconds each project used in attempts that ended before the pass."""
    decisions: list[str] = field(default_factory=list)
    head: tuple[str, int] | None = None
    """The blocked head EASY reserved for, and its shadow time."""
    waiting: dict[str, str] = field(default_factory=dict)
    """Reasons of pending jobs after the pass (only those named)."""
    rejected: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Outcome:
    decisions: list[str]
    head: tuple[str, int] | None
    waiting: dict[str, str]
    rejected: set[str]


def show(d: Decision) -> str:
    where = f" on {','.join(str(n) for n in d.nodes)}" if d.nodes else ""
    if d.action is Action.START:
        verb = "backfill" if d.reason == "started: backfilled" else "start"
        return f"{verb} {d.job_id}{where}"
    return f"{d.action} {d.job_id} ({d.reason})"


def one_pass(case: Case, *, indexed: bool) -> Outcome:
    """Set up the instant as the engine leaves it (running jobs placed, arrivals queued in FIFO
    rank), run one pass, and read back what it decided."""
    spec = ClusterSpec.homogeneous(case.gpus, 8)
    state = ClusterState(spec, case.policy, dict(case.quotas))
    for account, gpu_s in case.used.items():
        state.quota_use(account).used_gpu_s = gpu_s
    builders = sorted([*case.running, *case.pending], key=lambda b: b.obj().submit_s)
    rejected: set[str] = set()
    arrivals = []
    for rank, b in enumerate(builders):
        run = state.new_run(b.obj(), rank)
        if run.part < 0:  # the engine rejects a job no partition can ever hold
            rejected.add(b.name)
        elif b.since is not None:
            state.launch(run, b.on, b.since)
        else:
            arrivals.append(run)
    for run in arrivals:
        state.enqueue(run, case.now)
    decisions = [show(d) for d in Scheduler(state, indexed=indexed).run_pass(case.now)]
    head = None
    if state.heads[0] is not None:
        ix, shadow, at = state.heads[0]
        run = state.runs[ix]
        if shadow < 0:
            shadow = state.shadow_of(run, at) or FOREVER
        head = (run.job.job_id, shadow)
    by_name = {r.job.job_id: r for r in state.runs}
    waiting = {name: state.waiting_reason(by_name[name]) for name in case.waiting}
    return Outcome(decisions, head, waiting, rejected)


def p(name: str) -> JobBuilder:
    """A job of project ``p`` (the project the quota cases limit)."""
    return job(name).project("p")


cases: dict[str, Case] = {
    # -- 1. strict: start in queue order while jobs fit ---------------------------------------
    # Both nodes have 8 free: A takes node 0 (tie: lowest index). B (4) fits on node 1 only;
    # C (4) fits on node 1 (4 left).
    "strict: jobs start in order, best fit": Case(
        policy=NODE_STRICT,
        pending=[job("A").gpus(8), job("B").gpus(4), job("C").gpus(4)],
        decisions=["start A on 0", "start B on 1", "start C on 1"],
    ),
    # R holds node 0. A needs both nodes whole: it does not fit, and strict FIFO stops there,
    # so B (1 GPU, would fit on node 1) waits behind it; no reservation is made.
    "strict: the first job that does not fit blocks the queue": Case(
        policy=NODE_STRICT,
        now=10,
        running=[job("R").gpus(8).limit(100).running(since=0, on=(0,))],
        pending=[job("A").gpus(16), job("B").gpus(1).limit(50)],
        waiting={"A": "waiting: resources", "B": "waiting: priority"},
    ),
    # -- 2. EASY on nodes: shadow time, pinned nodes, backfill ---------------------------------
    # Same instant with EASY. A's shadow: node 0 is whole at R's estimated end 100, pinned
    # (0, 1). B: 10 + 50 = 60 ≤ 100 → backfills (best fit: node 1). C: 10 + 200 > 100 and
    # every node is pinned → waits.
    "easy nodes: a job that ends by the shadow backfills": Case(
        now=10,
        running=[job("R").gpus(8).limit(100).running(since=0, on=(0,))],
        pending=[job("A").gpus(16), job("B").gpus(1).limit(50), job("C").gpus(1).limit(200)],
        decisions=["backfill B on 1"],
        head=("A", 100),
        waiting={"A": "waiting: resources, reserved for 00:01", "C": "waiting: priority"},
    ),
    # Node 0 whole at 100: B (limit 100) ends exactly then and backfills on node 1; C (101)
    # would overrun the shadow, and no node is unpinned → waits.
    "easy nodes: ending exactly at the shadow is in time": Case(
        running=[job("R").gpus(8).limit(100).running(since=0, on=(0,))],
        pending=[job("A").gpus(16), job("B").gpus(8).limit(100), job("C").gpus(8).limit(101)],
        decisions=["backfill B on 1"],
        head=("A", 100),
    ),
    # Three nodes: R1 holds node 0 until 100, R2 4 GPUs of node 1 until 300, node 2 is free.
    # A (2 whole nodes): node 2 now, node 0 at 100 → shadow 100, pinned (0, 2). B (4, long)
    # fits outside the pinned nodes: node 1. C (1, long): node 1 is now full, 0 and 2 are
    # pinned → waits. D (8, 90 s) ends before 100 → backfills on node 2, the only fit.
    "easy nodes: an unpinned node takes a long job": Case(
        gpus=24,
        running=[
            job("R1").gpus(8).limit(100).running(since=0, on=(0,)),
            job("R2").gpus(4).limit(300).running(since=0, on=(1,)),
        ],
        pending=[
            job("A").gpus(16),
            job("B").gpus(4).limit(1000),
            job("C").gpus(1).limit(1000),
            job("D").gpus(8).limit(90),
        ],
        decisions=["backfill B on 1", "backfill D on 2"],
        head=("A", 100),
        waiting={"C": "waiting: priority"},
    ),
    # -- 3. EASY on a pool: shadow time and the leftover rule -----------------------------------
    # 16 GPUs, R holds 8 until 100. A (12) is the head: at 100, 16 free → shadow 100, leftover
    # 16 − 12 = 4. B (4, long) fits now and 4 ≤ 4 → starts, leftover 0. C (2, long): 2 > 0 →
    # waits. D (4, 50 s) ends by 100 → starts on the last 4 GPUs.
    "easy pool: the leftover takes long jobs until it is used up": Case(
        policy=POOL_EASY,
        running=[job("R").gpus(8).limit(100).running(since=0)],
        pending=[
            job("A").gpus(12),
            job("B").gpus(4).limit(1000),
            job("C").gpus(2).limit(1000),
            job("D").gpus(4).limit(50),
        ],
        decisions=["backfill B", "backfill D"],
        head=("A", 100),
        waiting={"C": "waiting: priority"},
    ),
    # Same shadow 100 and leftover 4. B (4 GPUs, 100 s) ends exactly at the shadow: in time, so
    # it leaves the leftover alone; C (4, long) then takes the leftover.
    "easy pool: a job in time does not use the leftover": Case(
        policy=POOL_EASY,
        running=[job("R").gpus(8).limit(100).running(since=0)],
        pending=[job("A").gpus(12), job("B").gpus(4).limit(100), job("C").gpus(4).limit(1000)],
        decisions=["backfill B", "backfill C"],
        head=("A", 100),
    ),
    # R's estimate ended at 100 but it still runs at 150: it counts as ending now, so A's
    # shadow is 150 with nothing left over; B (8, long) fits now but not in time → waits.
    "easy pool: a job past its estimate counts as ending now": Case(
        policy=POOL_EASY,
        now=150,
        running=[job("R").gpus(8).run(500).limit(100).running(since=0)],
        pending=[job("A").gpus(16), job("B").gpus(8).limit(1000)],
        head=("A", 150),
        waiting={"B": "waiting: priority"},
    ),
    # -- 4. queue order ------------------------------------------------------------------------
    # FIFO: A (16) starts; B and C wait behind it.
    "fifo: submit order": Case(
        policy=POOL_STRICT,
        pending=[job("A").gpus(16).limit(300), job("B").gpus(8).limit(100), job("C").gpus(8)],
        decisions=["start A"],
    ),
    # SJF orders by estimate: B (100), C (200), A (300). B and C fill the 16 GPUs; A waits.
    "sjf: shortest estimate first": Case(
        policy=PolicyConfig(order="sjf", placement=Placement.POOL, backfill=Backfill.NONE),
        pending=[
            job("A").gpus(16).limit(300),
            job("B").gpus(8).limit(100),
            job("C").gpus(8).limit(200),
        ],
        decisions=["start B", "start C"],
        waiting={"A": "waiting: resources"},
    ),
    # Multifactor at t = 0 (no age, no usage: fair share 1 for all): A (paid) = 10000 + 2000 ×
    # 0.5 + 1000 × 16/16 = 12000; B (subsidised) = 10000 + 2000 + 1000 = 13000 → B first.
    "multifactor: QOS outranks arrival": Case(
        policy=PolicyConfig(order="multifactor", placement=Placement.POOL, backfill=Backfill.NONE),
        pending=[job("A").gpus(16).qos(Qos.PAID), job("B").gpus(16)],
        decisions=["start B"],
        waiting={"A": "waiting: resources"},
    ),
    # A (8 of 16 GPUs) = 10000 + 2000 + 500 = 12500; B (16) = 13000 → B first, A waits.
    "multifactor: a bigger job outranks a smaller one": Case(
        policy=PolicyConfig(order="multifactor", placement=Placement.POOL, backfill=Backfill.NONE),
        pending=[job("A").gpus(8), job("B").gpus(16)],
        decisions=["start B"],
    ),
    # -- 5. placement ----------------------------------------------------------------------------
    # Free GPUs (6, 4, 8). A (4): the fitting node with the fewest free is node 1. B (3): node 1
    # is full, node 0 has 6 < 8 → node 0. C (6): node 0 has 3 left → node 2.
    "best fit: the fitting node with the fewest free GPUs": Case(
        policy=NODE_STRICT,
        gpus=24,
        running=[
            job("R1").gpus(2).limit(100).running(since=0, on=(0,)),
            job("R2").gpus(4).limit(100).running(since=0, on=(1,)),
        ],
        pending=[job("A").gpus(4), job("B").gpus(3), job("C").gpus(6)],
        decisions=["start A on 1", "start B on 0", "start C on 2"],
    ),
    # R uses 1 GPU of node 1. A (16 GPUs) takes ceil(16/8) = 2 whole nodes: 0 and 2. B asks 2
    # whole nodes for 4 GPUs: none is whole now → the strict pass stops.
    "multi-node: a gang takes whole nodes": Case(
        policy=NODE_STRICT,
        gpus=24,
        running=[job("R").gpus(1).limit(100).running(since=0, on=(1,))],
        pending=[job("A").gpus(16), job("B").gpus(4).nodes(2), job("C").gpus(1)],
        decisions=["start A on 0,2"],
        waiting={"B": "waiting: resources", "C": "waiting: priority"},
    ),
    # -- 6. budgets (Slurm's safe rule) ----------------------------------------------------------
    # Budget 1000 GPU-s; used 200, R runs with 1 × 300 → committed 500. A (1 × 500): 500 + 500
    # = 1000 ≤ 1000 → starts (committed 1000). B (1 × 400): 1400 > 1000 → held, "budget". C is
    # another project's and starts.
    "budget: the safe rule counts used and running limits": Case(
        policy=POOL_EASY,
        quotas={"p": ProjectQuota(budget_gpu_s=Quota.of(1000))},
        used={"p": 200},
        running=[p("R").limit(300).running(since=0)],
        pending=[p("A").limit(500), p("B").limit(400), job("C").project("q").limit(10_000)],
        decisions=["start A", "wait B (waiting: budget)", "start C"],
        waiting={"B": "waiting: budget"},
    ),
    # -- 7. too large: rejected, never queued ----------------------------------------------------
    # Two nodes: A needs ceil(17/8) = 3 nodes, B asks 3 whole nodes → both rejected. C starts.
    "too large for the cluster: rejected": Case(
        pending=[job("A").gpus(17), job("B").gpus(8).nodes(3), job("C").gpus(8)],
        decisions=["start C on 0"],
        rejected={"A", "B"},
    ),
    "too large for the pool: rejected": Case(
        policy=POOL_EASY,
        pending=[job("A").gpus(17), job("C").gpus(16)],
        decisions=["start C"],
        rejected={"A"},
    ),
    # -- 8. scavengers -----------------------------------------------------------------------------
    # S (scavenger) holds all 16 GPUs. A (8, entitled) does not fit: S is stopped and requeued,
    # A starts; the walk restarts from the front, where S (16) no longer fits and is skipped.
    "scavenger: preempted for an entitled job": Case(
        policy=POOL_STRICT,
        now=10,
        running=[job("S").gpus(16).qos(Qos.SCAVENGER).limit(1000).running(since=0)],
        pending=[job("A").gpus(8).submit(5)],
        decisions=["preempt S (preempted by job A)", "start A"],
        waiting={"S": "preempted by job A"},
    ),
}


@pytest.mark.parametrize("indexed", [True, False], ids=["index", "scan"])
@pytest.mark.parametrize("name", list(cases))
def test_one_pass(name: str, indexed: bool) -> None:
    case = cases[name]
    got = one_pass(case, indexed=indexed)
    assert got.decisions == case.decisions
    assert got.head == case.head
    assert got.waiting == case.waiting
    assert got.rejected == case.rejected
