"""The budget across clusters: withheld hours and shrink-first limits keep spend within the award.

Property tests over the pure rules of :mod:`computeport.award.cluster_budget`, and a model of
two clusters racing for an award's last hours while hours move between them and a cluster falls
over mid-apply: at every step, whatever each cluster may spend sums to no more than the award.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from computeport.award.cluster_budget import limit_targets, placed_hours

CLUSTERS = ("a", "b", "c")


@given(
    gpu_hours=st.integers(0, 1000),
    data=st.data(),
)
def test_placed_hours_never_exceed_what_is_released_nor_any_share(
    gpu_hours: int, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, gpu_hours), min_size=3, max_size=3)))
    reserve = cuts[0]
    shares = {"a": cuts[1] - cuts[0], "b": cuts[2] - cuts[1], "c": gpu_hours - cuts[2]}
    released = data.draw(st.integers(-5, gpu_hours + 5))
    placed = placed_hours(gpu_hours, released, reserve, shares)
    assert set(placed) == set(shares)
    assert all(0 <= placed[c] <= shares[c] for c in shares)
    assert sum(placed.values()) <= max(0, released)
    # Withholding takes the reserve first: while it covers the unreleased hours, shares stand.
    if gpu_hours - max(0, released) <= reserve:
        assert placed == shares
    if released >= gpu_hours:
        assert placed == shares


def test_edge_cases_of_placed_hours() -> None:
    assert placed_hours(100, 100, 0, {}) == {}
    assert placed_hours(100, 0, 40, {"a": 60}) == {"a": 0}  # nothing released yet
    assert placed_hours(100, 50, 40, {"a": 30, "b": 30}) == {"a": 20, "b": 30}  # name order
    assert placed_hours(100, 100, 0, {"a": 0, "b": 100}) == {"a": 0, "b": 100}


def test_a_move_reaches_its_target_only_after_the_source_confirmed() -> None:
    # 100 minutes, 70 on a and 30 on b, both confirmed; the operator moves 20 from a to b.
    wanted = {"a": 50, "b": 50}
    held = {"a": 70, "b": 30}
    first = limit_targets(wanted, held, 100)
    assert first == {"a": 50, "b": 30}  # a may shrink now; b waits for a's confirmation
    held["a"] = first["a"]  # a confirmed
    assert limit_targets(wanted, held, 100) == {"a": 50, "b": 50}


def test_a_limit_lowered_below_its_use_does_not_give_the_use_back() -> None:
    # a spent 50 of its 100, then 60 move to b: a shrinks to 40 but still counts 50.
    assert limit_targets({"a": 40, "b": 60}, {"a": 40, "b": 0}, 100, {"a": 50}) == {
        "a": 40,
        "b": 50,
    }


def test_a_cluster_that_cannot_shrink_keeps_its_hours_frozen() -> None:
    # a is down and still holds 70: b may never be raised past the remaining 30.
    assert limit_targets({"a": 0, "b": 100}, {"a": 70, "b": 30}, 100) == {"a": 0, "b": 30}
    # Nothing placed yet anywhere: the first cluster takes its share at once.
    assert limit_targets({"a": 60, "b": 40}, {}, 100) == {"a": 60, "b": 40}
    # Over-held (an old, larger limit everywhere): nothing is raised, shrinks go ahead.
    assert limit_targets({"a": 10, "b": 90}, {"a": 80, "b": 80}, 100) == {"a": 10, "b": 80}


RACERS = ("a", "b")
step = st.one_of(
    st.tuples(
        st.just("move"), st.sampled_from(RACERS), st.sampled_from(RACERS), st.integers(1, 12)
    ),
    st.tuples(st.just("reconcile"), st.sampled_from(RACERS), st.booleans(), st.booleans()),
    st.tuples(st.just("spend"), st.sampled_from(RACERS), st.integers(1, 12), st.just(0)),
)


@settings(max_examples=1000, deadline=None)
# a spends 12 of 20, 12 move to b, a shrinks to 8 (below its use): b must not get all 12.
@example(
    total=20,
    steps=[
        ("reconcile", "a", True, True),
        ("spend", "a", 12, 0),
        ("move", "a", "b", 12),
        ("reconcile", "a", True, True),
        ("reconcile", "b", True, True),
        ("spend", "b", 12, 0),
    ],
)
# b is raised while a, down, still holds what moved: b waits.
@example(
    total=20,
    steps=[
        ("reconcile", "a", True, True),
        ("move", "a", "b", 10),
        ("reconcile", "a", False, False),
        ("reconcile", "b", True, True),
        ("spend", "b", 12, 0),
        ("spend", "a", 12, 0),
        ("spend", "a", 12, 0),
    ],
)
@given(
    total=st.integers(0, 20),
    steps=st.lists(step, max_size=40),
)
def test_racing_clusters_never_spend_more_than_the_award(
    total: int, steps: list[tuple[str, str, object, object]]
) -> None:
    """A model of the reconcile loop: ``wanted`` is the database's split (moves change it at
    once), ``actual`` what each cluster enforces, ``held`` what the centre knows it may act on.
    A reconcile of one cluster records raises first, then applies change by change (it may fall
    over half-way: ``reached`` false), then confirms. Spend on a cluster stops at its limit and
    is known (ingested) when the next reconcile plans: the gap of usage not yet ingested is
    billing's to guard (the HK$ cap), as docs/sites.md says."""
    wanted = {"a": total, "b": 0}
    held: dict[str, int] = {}
    actual = {c: 0 for c in RACERS}
    spent = {c: 0 for c in RACERS}
    for kind, cluster, x, y in steps:
        if kind == "move":
            target, hours = str(x), int(str(y))
            hours = min(hours, wanted[cluster])
            if target != cluster:
                wanted[cluster] -= hours
                wanted[target] += hours
        elif kind == "reconcile":
            up, reached = bool(x), bool(y)
            goal = limit_targets(wanted, held, total, spent)[cluster]
            if goal > held.get(cluster, 0):
                held[cluster] = goal  # recorded before the cluster is touched
            if not up:
                continue
            actual[cluster] = goal  # the cluster took it ...
            if reached:
                held[cluster] = goal  # ... and said so
        else:
            room = max(0, actual[cluster] - spent[cluster])
            spent[cluster] += min(int(str(x)), room)
        assert sum(wanted.values()) == total
        # What the clusters may spend (their larger of enforced and spent) fits the award.
        assert sum(max(actual[c], spent[c]) for c in RACERS) <= total
        assert all(actual[c] <= held.get(c, 0) for c in RACERS)
    assert sum(spent.values()) <= total
