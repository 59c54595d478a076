"""The thread that runs the loops for ``computeport serve`` (the only place that waits).

Every ``interval`` wall seconds it reads the centre's clock once and ticks every loop in order;
a loop that raises is logged and tried again on the next round — one bad duty never stops the
others.  ``stop()`` ends the thread promptly (it waits on an event, not in a sleep).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from computeport.kit.clock import Clock
from computeport.worker.loop import Loop

__all__ = ["RoundResult", "WorkerThread"]

log = logging.getLogger("computeport.worker")


@runtime_checkable
class Closing(Protocol):
    """A loop with something to finish at shutdown."""

    def close(self) -> None: ...


@dataclass
class RoundResult:
    """What one round did: each loop's summary, and the loops that failed."""

    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class WorkerThread:
    """Runs ``loops`` on a daemon thread until stopped."""

    def __init__(self, loops: Sequence[Loop], clock: Clock, *, interval: float = 1.0) -> None:
        self.loops = list(loops)
        self.clock = clock
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_round(self) -> RoundResult:
        """One round at the clock's now (what the thread does each interval; tests call it)."""
        now = self.clock.now()
        result = RoundResult()
        for loop in self.loops:
            try:
                summary = loop.tick(now)
            except Exception as exc:  # one duty's failure must not stop the others
                log.exception("worker loop %s failed", loop.name)
                result.failed[loop.name] = f"{type(exc).__name__}: {exc}"
                continue
            if summary:
                result.done[loop.name] = summary
        self.rounds += 1
        return result

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_round()
            self._stop.wait(self.interval)

    def start(self) -> WorkerThread:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="computeport-worker", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread, then let each loop that holds state close (e.g. write its journal)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for loop in self.loops:
            if isinstance(loop, Closing):
                try:
                    loop.close()
                except Exception:
                    log.exception("worker loop %s failed to close", loop.name)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
