"""Placement tables for :mod:`computeport.scheduling.pools`: shapes, best fit now, and the EASY
plan (shadow time and pinned nodes). Nodes have 8 GPUs; ``free`` lists free GPUs per node and
running jobs are ``(GPUs, nodes, estimated end)``; every expectation is worked out in the case's
comment from DESIGN.md "Scheduling semantics"."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from computeport.scheduling.pools import GpuPool, NodePool


@dataclass
class Running:
    """A running job as a plan reads it (``RunningJob``)."""

    g: int
    k: int
    nodes: tuple[int, ...]
    end: int


def node_pool(nodes: int, jobs: list[Running]) -> NodePool:
    pool = NodePool(nodes, 8)
    for ix, r in enumerate(jobs):
        pool.allocate(r.nodes, r.g, r.k, ix, r.end)
    return pool


def by_end(jobs: list[Running]) -> list[tuple[int, int]]:
    return sorted((r.end, ix) for ix, r in enumerate(jobs))


# (gpus, nodes asked) → (g, k): k = 0 for one node, else the whole nodes a gang takes
shapes = {
    "fits one node": ((4, 0), (4, 0)),
    "a full node is still one node": ((8, 1), (8, 0)),
    "more GPUs than a node: ceil(g/8) nodes": ((9, 0), (9, 2)),
    "one node asked, too many GPUs for it": ((16, 1), (16, 2)),
    "whole nodes asked for few GPUs": ((4, 2), (4, 2)),
}


@pytest.mark.parametrize("name", list(shapes))
def test_shape(name: str) -> None:
    (gpus, nodes), expected = shapes[name]
    assert NodePool(4, 8).shape(gpus, nodes) == expected


@dataclass(frozen=True)
class FitCase:
    nodes: int
    running: list[Running]
    g: int
    k: int = 0
    excluded: frozenset[int] = frozenset()
    expected: tuple[int, ...] | None = None


best_fit = {
    # free (6, 4, 8): the fitting node with the fewest free GPUs
    "fewest free that fits": FitCase(
        3, [Running(2, 0, (0,), 9), Running(4, 0, (1,), 9)], g=4, expected=(1,)
    ),
    "tie: lowest index": FitCase(2, [], g=8, expected=(0,)),
    "excluded nodes are skipped": FitCase(
        3,
        [Running(2, 0, (0,), 9), Running(4, 0, (1,), 9)],
        g=4,
        excluded=frozenset({1}),
        expected=(0,),
    ),
    # free (3, 2): nothing has 4
    "does not fit": FitCase(2, [Running(5, 0, (0,), 9), Running(6, 0, (1,), 9)], g=4),
    # free (8, 7, 8, 8): the lowest whole nodes
    "gang: lowest whole nodes": FitCase(4, [Running(1, 0, (1,), 9)], g=16, k=2, expected=(0, 2)),
    "gang: excluded whole nodes are skipped": FitCase(
        4, [Running(1, 0, (1,), 9)], g=16, k=2, excluded=frozenset({0}), expected=(2, 3)
    ),
    "gang: too few whole nodes": FitCase(2, [Running(1, 0, (1,), 9)], g=16, k=2),
}


@pytest.mark.parametrize("name", list(best_fit))
def test_best_fit(name: str) -> None:
    case = best_fit[name]
    pool = node_pool(case.nodes, case.running)
    assert pool.best_fit(case.g, case.k, case.excluded) == case.expected
    assert pool.fits(case.g, case.k) == (pool.best_fit(case.g, case.k) is not None)


@dataclass(frozen=True)
class PlanCase:
    nodes: int
    running: list[Running]
    g: int
    k: int = 0
    now: int = 0
    excluded: frozenset[int] = field(default_factory=frozenset)
    expected: tuple[int, tuple[int, ...]] | None = None


node_plans = {
    # free (0, 4); at 50 node 1 has 4 + 4 = 8 → shadow 50 on node 1
    "the first end that frees enough": PlanCase(
        2, [Running(8, 0, (0,), 100), Running(4, 0, (1,), 50)], g=8, expected=(50, (1,))
    ),
    # node 1 keeps a 4-GPU job until 150: at 50 it has 2 + 2 = 4 < 8; at 100 node 0 is whole
    "not enough at the first end: the next one": PlanCase(
        2,
        [Running(8, 0, (0,), 100), Running(2, 0, (1,), 50), Running(4, 0, (1,), 150)],
        g=8,
        expected=(100, (0,)),
    ),
    "an excluded node is never planned on": PlanCase(
        2,
        [Running(8, 0, (0,), 100), Running(4, 0, (1,), 50)],
        g=8,
        excluded=frozenset({1}),
        expected=(100, (0,)),
    ),
    # at 50 both nodes 1 (4+4) and 2 (2+6) have 8: best fit → (8, 1) before (8, 2)
    "best fit among the nodes freed at once": PlanCase(
        3,
        [Running(8, 0, (0,), 100), Running(4, 0, (1,), 50), Running(6, 0, (2,), 50)],
        g=6,
        expected=(50, (1,)),
    ),
    # R's estimate (100) is past at 150: it counts as ending now
    "a job past its estimate ends now": PlanCase(
        1, [Running(8, 0, (0,), 100)], g=8, now=150, expected=(150, (0,))
    ),
    # node 2 is whole now, node 0 at 100, node 1 at 200: two whole nodes at 100, pinned (0, 2)
    "gang: the shadow is when enough nodes are whole": PlanCase(
        3,
        [Running(8, 0, (0,), 100), Running(8, 0, (1,), 200)],
        g=16,
        k=2,
        expected=(100, (0, 2)),
    ),
    "gang: excluded nodes wait for the next": PlanCase(
        3,
        [Running(8, 0, (0,), 100), Running(8, 0, (1,), 200)],
        g=16,
        k=2,
        excluded=frozenset({0}),
        expected=(200, (1, 2)),
    ),
    "gang: whole nodes now, shadow now": PlanCase(
        3, [Running(8, 0, (0,), 100)], g=16, k=2, now=7, expected=(7, (1, 2))
    ),
    # a gang of 2 on nodes (0, 1) until 100: both whole then
    "gang: a running gang frees its nodes together": PlanCase(
        3,
        [Running(16, 2, (0, 1), 100), Running(8, 0, (2,), 300)],
        g=24,
        k=3,
        expected=(300, (0, 1, 2)),
    ),
    "gang: never enough nodes": PlanCase(2, [Running(8, 0, (0,), 100)], g=24, k=3),
}


@pytest.mark.parametrize("name", list(node_plans))
def test_node_plan(name: str) -> None:
    case = node_plans[name]
    pool = node_pool(case.nodes, case.running)
    plan = pool.plan(case.g, case.k, by_end(case.running), case.running, case.now, case.excluded)
    assert plan == case.expected


# 16 GPUs; running (8 until 100) and (4 until 50): 4 free now → (shadow, left over after g)
pool_plans = {
    "fits at the first end": (8, 0, 0, (50, 0)),
    "needs both ends": (12, 0, 0, (100, 4)),
    "GPUs withheld by a reservation": (8, 0, 4, (100, 4)),
    "never": (20, 0, 0, None),
    "both past their estimates: now": (8, 120, 0, (120, 8)),
}


@pytest.mark.parametrize("name", list(pool_plans))
def test_pool_plan(name: str) -> None:
    g, now, withheld, expected = pool_plans[name]
    running = [Running(8, 0, (), 100), Running(4, 0, (), 50)]
    pool = GpuPool(16)
    for r in running:
        pool.allocate(r.nodes, r.g, r.k)
    assert pool.plan(g, by_end(running), running, now, withheld) == expected


def test_release_gives_back_what_allocate_took() -> None:
    pool = node_pool(3, [Running(16, 2, (0, 2), 100), Running(3, 0, (1,), 50)])
    assert (pool.free, pool.free_total) == ([0, 5, 0], 5)
    pool.release((0, 2), 16, 2, 0)
    pool.release((1,), 3, 0, 1)
    assert (pool.free, pool.free_total, pool.by_end) == ([8, 8, 8], 24, [])
