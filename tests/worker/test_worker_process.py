"""The worker's round and its graceful stop, in-process on both engines (no signals, no waits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import make_session_factory, unit_of_work
from computeport.kit.clock import ManualClock
from computeport.models.worker import DutyLease, DutyRun, WorkerProcess
from computeport.worker.leases import Leases
from computeport.worker.loop import Periodic
from computeport.worker.main import Worker
from computeport.worker.metrics import WorkerMetrics

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


class Duty(Periodic):
    """Commits through its fenced sessions; may ask the worker to stop mid-run (a SIGTERM)."""

    def __init__(self, name: str, sessions: sessionmaker[Session], fail: bool = False) -> None:
        super().__init__(timedelta(hours=1))
        self.name = name
        self.sessions = sessions
        self.fail = fail
        self.worker: Worker | None = None
        self.runs = 0

    def run(self, now: datetime) -> str:
        if self.worker is not None:
            self.worker.stopping.set()  # SIGTERM arrives while this duty runs
        with unit_of_work(self.sessions):
            self.runs += 1
        if self.fail:
            raise RuntimeError("the template is broken")
        return "ran"


def make(engine: Engine, *duties: tuple[str, bool]) -> tuple[Worker, list[Duty]]:
    clock = ManualClock(T0)
    leases = Leases(make_session_factory(engine), "w1", clock, TTL)
    loops = [Duty(name, leases.fenced(leases.sessions, name), fail) for name, fail in duties]
    worker = Worker(loops, leases, clock, metrics=WorkerMetrics())
    worker.open()
    return worker, loops


def test_sigterm_lets_the_duty_in_progress_finish_then_releases_the_leases(
    committed_engine: Engine,
) -> None:
    worker, (first, second) = make(committed_engine, ("a-first", False), ("b-second", False))
    first.worker = worker
    result = worker.run_round()
    assert result.done == {"a-first": "ran"}  # finished and committed …
    assert second.runs == 0  # … and the round stopped there
    worker.shutdown()
    with worker.leases.sessions() as session:
        assert session.scalars(select(DutyLease.holder)).all() == [None, None]
        row = session.get(WorkerProcess, "w1")
        assert row is not None
        assert row.stopped_at == T0


def test_a_failing_duty_is_recorded_and_does_not_stop_the_others(
    committed_engine: Engine,
) -> None:
    worker, _ = make(committed_engine, ("a-broken", True), ("b-fine", False))
    result = worker.run_round()
    assert result.failed == {"a-broken": "RuntimeError: the template is broken"}
    assert result.done == {"b-fine": "ran"}
    with worker.leases.sessions() as session:
        runs = session.execute(select(DutyRun.duty, DutyRun.outcome).order_by(DutyRun.id)).all()
        lease = session.get(DutyLease, "a-broken")
    assert [tuple(r) for r in runs] == [("a-broken", "failed"), ("b-fine", "ok")]
    assert lease is not None
    assert lease.last_error == "RuntimeError: the template is broken"
    metrics = worker.metrics
    assert metrics is not None
    assert (
        metrics.registry.get_sample_value("computeport_duty_failures_total", {"duty": "a-broken"})
        == 1.0
    )
    assert (
        metrics.registry.get_sample_value("computeport_duty_runs_total", {"duty": "b-fine"}) == 1.0
    )
