"""The pending queue of one partition, indexed so backfill does not rescan it every event.

Jobs are kept by their integer sort key (see :mod:`computeport.scheduling.policy`) in one sorted
list (queue order) and, per shape ``(gpus, whole nodes)``, in a :class:`ShapeClass` split into
estimate bands (``estimate.bit_length()``: powers of two). Backfill asks each shape that fits
now for "the first job in queue order" or "the first job whose estimate is ≤ D"; the answer is
the front of each qualifying band plus a scan of the one band that straddles D. Admitting the
smallest such key repeatedly is the same as scanning the whole queue in order (admitting a job
only ever takes resources away), at a cost that depends on the number of shapes, not jobs.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

__all__ = ["PendingQueue", "QueueEntry", "ShapeClass"]


class QueueEntry:
    """What the queue needs of a pending job (the engine's run record satisfies it)."""

    __slots__ = ("est", "g", "k", "key")

    def __init__(self, key: int, g: int, k: int, est: int) -> None:
        self.key = key
        self.g = g
        self.k = k
        self.est = est


class ShapeClass:
    """Pending jobs of one shape, by key, split into estimate bands."""

    __slots__ = ("bands", "count", "g", "k")

    def __init__(self, g: int, k: int) -> None:
        self.g = g
        self.k = k
        self.count = 0
        self.bands: dict[int, list[int]] = {}

    def add(self, key: int, est: int) -> None:
        band = self.bands.get(est.bit_length())
        if band is None:
            self.bands[est.bit_length()] = [key]
        else:
            insort(band, key)
        self.count += 1

    def remove(self, key: int, est: int) -> None:
        band = self.bands[est.bit_length()]
        del band[bisect_left(band, key)]
        if not band:
            del self.bands[est.bit_length()]
        self.count -= 1

    def first(self) -> int:
        bands = self.bands
        if len(bands) == 1:
            for band in bands.values():
                return band[0]
        return min([band[0] for band in bands.values()])

    def first_with_est_at_most(self, limit: int, entries: dict[int, QueueEntry]) -> int | None:
        """The smallest key whose estimate is ≤ ``limit`` (``None`` if none)."""
        if limit <= 0:
            return None
        full = (limit + 1).bit_length() - 1  # bands b with 2^b − 1 ≤ limit hold only such jobs
        straddle = limit.bit_length()
        best: int | None = None
        for b, band in self.bands.items():
            if b <= full:
                key = band[0]
            elif b == straddle:
                key = -1
                for candidate in band:
                    if best is not None and candidate > best:
                        break
                    if entries[candidate].est <= limit:
                        key = candidate
                        break
                if key < 0:
                    continue
            else:
                continue
            if best is None or key < best:
                best = key
        return best


class PendingQueue:
    """Pending jobs of one partition in queue order, with per-shape indexes.

    ``keys`` is sorted and may hold keys of jobs that left (removal is lazy, so taking jobs
    from the front or middle of a 50,000-job queue costs no list shifting): a key is live iff
    it is in ``entries``. Keys before ``lo`` are all dead. The list is compacted when dead keys
    outnumber live ones.
    """

    __slots__ = ("dead", "entries", "keys", "lo", "shapes")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.lo = 0
        self.dead = 0
        self.entries: dict[int, QueueEntry] = {}
        self.shapes: dict[tuple[int, int], ShapeClass] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[QueueEntry]:
        """Live entries in queue order (do not change the queue while iterating)."""
        entries = self.entries
        return (entries[k] for k in self.keys[self.lo :] if k in entries)

    def first(self) -> QueueEntry | None:
        """The entry at the front of the queue."""
        keys, entries = self.keys, self.entries
        lo = self.lo
        while lo < len(keys) and keys[lo] not in entries:
            lo += 1
            self.dead -= 1
        self.lo = lo
        return entries[keys[lo]] if lo < len(keys) else None

    def add(self, entry: QueueEntry) -> None:
        keys = self.keys
        key = entry.key
        if not keys or key > keys[-1]:
            keys.append(key)
        else:
            at = bisect_left(keys, key, self.lo)
            if at < len(keys) and keys[at] == key:
                self.dead -= 1  # a dead key of this entry comes back to life (requeue)
            else:
                keys.insert(at, key)
        self.entries[key] = entry
        shape = (entry.g, entry.k)
        cls = self.shapes.get(shape)
        if cls is None:
            cls = self.shapes[shape] = ShapeClass(entry.g, entry.k)
        # ShapeClass.add inlined (once per arrival)
        bands = cls.bands
        b = entry.est.bit_length()
        band = bands.get(b)
        if band is None:
            bands[b] = [key]
        elif key > band[-1]:
            band.append(key)
        else:
            insort(band, key)
        cls.count += 1

    def remove(self, entry: QueueEntry) -> None:
        key = entry.key
        del self.entries[key]
        shape = (entry.g, entry.k)
        cls = self.shapes[shape]
        # ShapeClass.remove inlined (once per start)
        bands = cls.bands
        b = entry.est.bit_length()
        band = bands[b]
        if band[0] == key:
            del band[0]
        else:
            del band[bisect_left(band, key)]
        if not band:
            del bands[b]
        cls.count -= 1
        if not cls.count:
            del self.shapes[shape]
        keys = self.keys
        entries = self.entries
        lo = self.lo
        if lo < len(keys) and keys[lo] == key:
            lo += 1
            while lo < len(keys) and keys[lo] not in entries:
                lo += 1
                self.dead -= 1
            self.lo = lo
        else:
            self.dead += 1
            if self.dead > 2 * len(entries) + 32:
                self.compact()

    def compact(self) -> None:
        entries = self.entries
        self.keys = [k for k in self.keys[self.lo :] if k in entries]
        self.lo = 0
        self.dead = 0

    def rekey(self, new_keys: dict[int, int]) -> None:
        """Give entries new keys (a dynamic order's periodic recalculation): ``old → new``."""
        entries = list(self.entries.values())
        for entry in entries:
            entry.key = new_keys[entry.key]
        entries.sort(key=lambda e: e.key)
        self.keys = [e.key for e in entries]
        self.lo = 0
        self.dead = 0
        self.entries = {e.key: e for e in entries}
        shapes: dict[tuple[int, int], ShapeClass] = {}
        for entry in entries:  # in key order: every band list is built by appending
            cls = shapes.get((entry.g, entry.k))
            if cls is None:
                cls = shapes[(entry.g, entry.k)] = ShapeClass(entry.g, entry.k)
            band = entry.est.bit_length()
            keys = cls.bands.get(band)
            if keys is None:
                cls.bands[band] = [entry.key]
            else:
                keys.append(entry.key)
            cls.count += 1
        self.shapes = shapes
