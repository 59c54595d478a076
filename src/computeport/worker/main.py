"""A worker process: its main loop, its heartbeat, and a graceful stop.

:class:`Worker` owns the duties (loops built with session factories fenced on their own
lease) and a :class:`~computeport.worker.leases.Leases`.  Each round it acquires free duties,
then runs each duty it holds at the centre's clock, recording the run (start, end, outcome) in
``worker_duty_run``.  A separate heartbeat thread renews the leases every third of the lease
period, so a long month-end close keeps its lease while a dead or paused process loses it.

``computeport worker run`` calls :meth:`Worker.run` in the foreground (SIGTERM/SIGINT ask it to
stop: the duty in progress finishes or rolls back, then the leases are released); the demo
starts the same :class:`Worker` on a thread beside the server (:meth:`Worker.start`).
Tests call :meth:`Worker.run_round` and :meth:`Worker.beat` with manual clocks: no waiting.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from computeport.kit.clock import Clock, SystemClock
from computeport.kit.errors import ValidationFailed
from computeport.worker.leases import LeaseLost, Leases
from computeport.worker.loop import Deferred, Loop, Periodic
from computeport.worker.metrics import WorkerMetrics
from computeport.worker.runner import Closing
from computeport.worker.start import WorkerContext, build_loops

__all__ = ["Worker", "WorkerRound", "build_worker", "new_worker_id"]

log = logging.getLogger("computeport.worker")


def new_worker_id() -> str:
    """A worker's id: unique across machines and restarts."""
    return uuid.uuid4().hex[:16]


@dataclass
class WorkerRound:
    """What one round did: duties acquired, run (with their summary), failed, lost."""

    acquired: list[str] = field(default_factory=list)
    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)


def _periodic(loop: Loop) -> Periodic | None:
    """The periodic duty ``loop`` is (or defers), whose runs get history rows."""
    if isinstance(loop, Deferred):
        return loop.periodic
    return loop if isinstance(loop, Periodic) else None


def _due(loop: Loop, clock: Clock) -> bool:
    """Whether a tick would do work worth a history row (every tick, for non-periodic loops;
    never before a deferred duty's start)."""
    if isinstance(loop, Deferred):
        return loop.due(clock.now())
    if isinstance(loop, Periodic):
        return loop.next_due is None or clock.now() >= loop.next_due
    return True


class Worker:
    """Runs the duties it holds leases for, until stopped."""

    def __init__(
        self,
        loops: Sequence[Loop],
        leases: Leases,
        centre_clock: Clock,
        *,
        interval: float = 1.0,
        metrics: WorkerMetrics | None = None,
        share: bool = True,
    ) -> None:
        self.loops = list(loops)
        self.leases = leases
        self.centre_clock = centre_clock
        self.interval = interval
        self.metrics = metrics
        self.share = share
        self.rounds = 0
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def duties(self) -> list[str]:
        return [loop.name for loop in self.loops]

    def open(self) -> None:
        """Register this worker (SQLite: refuse a second) and create the duties' lease rows."""
        self.leases.register()
        self.leases.ensure_duties(self.duties)

    # -- one round, one beat ----------------------------------------------------------

    def _limit(self) -> int | None:
        """A fair share of the duties among live workers, so several workers spread them."""
        if not self.share:
            return None
        live = max(1, self.leases.live_workers())
        share = math.ceil(len(self.loops) / live)
        return max(0, share - len(self.leases.held))

    def run_round(self) -> WorkerRound:
        """Acquire free duties, then run each held duty that is due (skips after a stop)."""
        result = WorkerRound()
        result.acquired = [lease.duty for lease in self.leases.acquire(self.duties, self._limit())]
        for loop in self.loops:
            if self.stopping.is_set():
                break
            if loop.name not in self.leases.held or not _due(loop, self.centre_clock):
                continue
            self._run_one(loop, result)
        self._give_back_extra()
        self.rounds += 1
        if self.metrics is not None:
            self.metrics.observe_lag(self.leases.sessions, self.centre_clock)
        return result

    def _give_back_extra(self) -> None:
        """Holding more than a fair share (another worker joined): release the surplus."""
        if not self.share or not self.leases.held:
            return
        live = max(1, self.leases.live_workers())
        share = math.ceil(len(self.loops) / live)
        surplus = sorted(self.leases.held)[share:]
        if surplus:
            self.leases.release(surplus)

    def _run_one(self, loop: Loop, result: WorkerRound) -> None:
        periodic = _periodic(loop) is not None
        try:
            run_id = self.leases.run_started(loop.name) if periodic else None
        except LeaseLost as exc:
            result.lost.append(loop.name)
            log.warning("%s", exc)
            return
        started = time.perf_counter()
        error: str | None = None
        try:
            summary = loop.tick(self.centre_clock.now())
        except LeaseLost as exc:
            error = f"LeaseLost: {exc}"
            result.lost.append(loop.name)
            log.warning("%s", exc)
        except Exception as exc:  # one duty's failure must not stop the others
            error = f"{type(exc).__name__}: {exc}"
            result.failed[loop.name] = error
            log.exception("worker duty %s failed", loop.name)
        else:
            if summary:
                result.done[loop.name] = summary
        if self.metrics is not None and periodic:
            self.metrics.observe_run(loop.name, time.perf_counter() - started, error)
        if run_id is not None:
            self.leases.run_ended(run_id, loop.name, error)

    def beat(self) -> list[str]:
        """Renew the leases (the heartbeat thread's one step); the duties lost."""
        lost = self.leases.heartbeat()
        for duty in lost:
            log.warning("lease of %s lost", duty)
        return lost

    # -- running ----------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        every = self.leases.ttl.total_seconds() / 3
        while not self.stopping.wait(every):
            try:
                self.beat()
            except Exception:  # the database away for a moment: the next beat retries
                log.exception("worker heartbeat failed")

    def _main_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_round()
            except Exception:  # e.g. the database unreachable: retry next round
                log.exception("worker round failed")
            self.stopping.wait(self.interval)

    def run(self) -> None:
        """Run in the foreground until :meth:`stop` is called (e.g. by a signal handler)."""
        beat = threading.Thread(target=self._heartbeat_loop, name="worker-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
        try:
            self._main_loop()
        finally:
            self.shutdown()

    def start(self) -> Worker:
        """Run on a daemon thread (the demo, beside the server); :meth:`stop` ends it."""
        main = threading.Thread(target=self.run, name="computeport-worker", daemon=True)
        main.start()
        self._threads.append(main)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop, and wait for its thread if it runs on one."""
        self.stopping.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def shutdown(self) -> None:
        """Close what holds state (e.g. the cluster's journal), release the leases, sign off."""
        self.stopping.set()
        for loop in self.loops:
            if isinstance(loop, Closing) and loop.name in self.leases.held:
                try:
                    loop.close()
                except Exception:
                    log.exception("worker duty %s failed to close", loop.name)
        try:
            self.leases.stop()
        except Exception:  # the leases expire by themselves
            log.exception("worker could not release its leases")


def build_worker(
    state: WorkerContext,
    *,
    lease_seconds: float,
    interval: float = 1.0,
    metrics: WorkerMetrics | None = None,
    lease_clock: Clock | None = None,
    worker_id: str | None = None,
    duties: Sequence[str] = (),
    pace: timedelta | None = None,
) -> Worker:
    """A worker for ``state``: its loops fenced on their leases (wall-clock leases by default).

    ``duties`` limits the worker to those duties (empty: all of the deployment's); ``pace``
    makes every periodic duty run at least that often (in the centre's time).
    """
    leases = Leases(
        state.sessions,
        worker_id or new_worker_id(),
        lease_clock or SystemClock(),
        timedelta(seconds=lease_seconds),
    )
    loops = build_loops(state, lambda duty: leases.fenced(state.sessions, duty))
    if duties:
        unknown = sorted(set(duties) - {loop.name for loop in loops})
        if unknown:
            known = ", ".join(loop.name for loop in loops)
            raise ValidationFailed(
                f"unknown duty {', '.join(unknown)} (this deployment has: {known})",
                field="duty",
            )
        loops = [loop for loop in loops if loop.name in duties]
    if pace is not None:
        if pace <= timedelta(0):
            raise ValidationFailed("the pace must be positive", field="pace")
        for loop in loops:
            periodic = _periodic(loop)
            if periodic is not None:
                periodic.every = min(periodic.every, pace)
    return Worker(loops, leases, state.clock, interval=interval, metrics=metrics)
