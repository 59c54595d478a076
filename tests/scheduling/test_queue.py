"""Tables for :mod:`computeport.scheduling.queue`: queue order with lazy removal, and the
per-shape estimate bands backfill asks ("the first job whose estimate is ≤ D")."""

from __future__ import annotations

import pytest

from computeport.scheduling.queue import PendingQueue, QueueEntry


def queue_of(*entries: tuple[int, int, int]) -> PendingQueue:
    """A queue of ``(key, gpus, estimate)`` entries, one-node shapes."""
    queue = PendingQueue()
    for key, g, est in entries:
        queue.add(QueueEntry(key, g, 0, est))
    return queue


def keys(queue: PendingQueue) -> list[int]:
    return [e.key for e in queue]


# One shape, keys 1–6, estimates chosen so a lower key has a longer estimate. Bands are
# est.bit_length(): 100 → 7, 8 → 4, 7 and 4 → 3, 3 → 2, 1 → 1; the band that straddles the
# limit is scanned, the bands wholly under it give their front.
BANDED = [(1, 8, 100), (2, 8, 8), (3, 8, 7), (4, 8, 4), (5, 8, 3), (6, 8, 1)]
at_most = {
    "no time left": (0, None),
    "only the 1-second job": (1, 6),
    "2 s: still only it": (2, 6),
    "3 s: key 5 (3 s) before key 6": (3, 5),
    "4 s: key 4": (4, 4),
    "6 s: the straddling band's 4 s job, not its 7 s one": (6, 4),
    "7 s: key 3": (7, 3),
    "8 s: key 2": (8, 2),
    "99 s: still key 2": (99, 2),
    "100 s: everything, key 1": (100, 1),
    "a long limit": (10**6, 1),
}


@pytest.mark.parametrize("name", list(at_most))
def test_first_with_estimate_at_most(name: str) -> None:
    limit, expected = at_most[name]
    queue = queue_of(*BANDED)
    assert queue.shapes[(8, 0)].first_with_est_at_most(limit, queue.entries) == expected
    assert queue.shapes[(8, 0)].first() == 1


def test_the_answer_follows_removals() -> None:
    queue = queue_of(*BANDED)
    queue.remove(queue.entries[4])
    assert queue.shapes[(8, 0)].first_with_est_at_most(6, queue.entries) == 5


# (entries added, keys removed) → live keys in order, the front, and the shapes left
changes = {
    "added out of order, read in order": ([(5, 8, 9), (1, 4, 9), (3, 8, 9)], [], [1, 3, 5]),
    "removal in the middle is lazy": ([(1, 8, 9), (3, 8, 9), (5, 8, 9)], [3], [1, 5]),
    "removal at the front moves it": ([(1, 8, 9), (3, 4, 9), (5, 8, 9)], [1], [3, 5]),
    "everything removed": ([(1, 8, 9), (3, 4, 9)], [3, 1], []),
}


@pytest.mark.parametrize("name", list(changes))
def test_queue_order(name: str) -> None:
    added, removed, expected = changes[name]
    queue = queue_of(*added)
    for key in removed:
        queue.remove(queue.entries[key])
    assert keys(queue) == expected
    assert len(queue) == len(expected)
    front = queue.first()
    assert (front.key if front else None) == (expected[0] if expected else None)
    live_shapes = {(g, 0) for key, g, _ in added if key in expected}
    assert set(queue.shapes) == live_shapes  # a shape with no job left is dropped


def test_a_requeued_job_takes_its_old_place() -> None:
    queue = queue_of((1, 8, 9), (2, 8, 9), (3, 8, 9))
    entry = queue.entries[2]
    queue.remove(entry)
    assert queue.dead == 1
    queue.add(entry)
    assert (keys(queue), queue.dead) == ([1, 2, 3], 0)


def test_compaction_keeps_the_order() -> None:
    queue = queue_of(*((k, 8, 9) for k in range(100)))
    for k in range(1, 99):  # never the front: each stays as a dead key ...
        queue.remove(queue.entries[k])
    assert keys(queue) == [0, 99]
    # ... until dead keys exceed 2 × live + 32 (after the 78th removal): the list is compacted
    assert len(queue.keys) < 100


def test_rekey_reorders_the_queue_and_its_shapes() -> None:
    queue = queue_of((1, 8, 9), (2, 8, 9), (3, 4, 9))
    a, b, c = (queue.entries[k] for k in (1, 2, 3))
    queue.rekey({1: 30, 2: 10, 3: 20})
    assert list(queue) == [b, c, a]
    assert queue.shapes[(8, 0)].first() == 10
    assert queue.shapes[(4, 0)].first() == 20
