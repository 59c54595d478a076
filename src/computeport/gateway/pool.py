"""Round robin over a deployment's healthy upstreams, with passive health.

An upstream that refuses a connection (or times out connecting) is marked down for
``cooldown`` seconds and the request moves to the next one — safe because nothing was sent
yet, so nothing can be answered or billed twice.  When every upstream is down the pool still
offers the one whose cooldown ends first (a probe), so a recovered upstream is found without a
separate health checker; if that fails too the gateway answers 503.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator


class UpstreamPool:
    """Per-model rotation and per-URL down marks (one per process)."""

    def __init__(self, cooldown: float = 5.0, now: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self._now = now
        self._turns: dict[tuple[str, tuple[str, ...]], Iterator[int]] = {}
        self._down_until: dict[str, float] = {}

    def order(self, model: str, upstreams: tuple[str, ...]) -> list[str]:
        """The upstreams to try, in order: healthy ones from this request's turn, then at most
        one that is down (the earliest back).  The rotation is per (model, upstreams): a
        department restricted to some sites turns over its own upstreams evenly."""
        turns = (model, upstreams)
        turn = self._turns.get(turns)
        if turn is None:
            turn = self._turns[turns] = itertools.count()
        start = next(turn) % len(upstreams)
        rotated = upstreams[start:] + upstreams[:start]
        now = self._now()
        healthy = [u for u in rotated if self._down_until.get(u, 0.0) <= now]
        if healthy:
            return healthy
        return [min(rotated, key=lambda u: self._down_until.get(u, 0.0))]

    def mark_down(self, url: str) -> None:
        self._down_until[url] = self._now() + self.cooldown

    def mark_up(self, url: str) -> None:
        self._down_until.pop(url, None)

    def is_down(self, url: str) -> bool:
        return self._down_until.get(url, 0.0) > self._now()


__all__ = ["UpstreamPool"]
