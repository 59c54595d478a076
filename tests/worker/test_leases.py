"""Duty leases on both engines: acquire, renew, expiry and take-over, the fence, release.

Two :class:`Leases` with different worker ids stand for two worker processes; a manual clock
moves time, so expiry is exact and nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import make_session_factory, unit_of_work
from computeport.kit.clock import ManualClock
from computeport.models.worker import DutyLease, DutyRun, WorkerProcess
from computeport.worker.leases import LeaseLost, Leases, SecondWorker
from computeport.worker.loop import Periodic
from computeport.worker.main import Worker

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
DUTIES = ["close-periods", "ingest-usage", "post-usage"]


def two_workers(engine: Engine, clock: ManualClock) -> tuple[Leases, Leases]:
    sessions = make_session_factory(engine)
    a = Leases(sessions, "worker-a", clock, TTL)
    b = Leases(sessions, "worker-b", clock, TTL)
    a.register(host="host-a", pid=1)
    if engine.dialect.name == "postgresql":
        b.register(host="host-b", pid=2)
    else:  # SQLite allows one worker; the lease logic is the same, so b just needs its row
        with unit_of_work(sessions) as session:
            session.add(
                WorkerProcess(id="worker-b", host="host-b", pid=2, started_at=T0, heartbeat_at=T0)
            )
    a.ensure_duties(DUTIES)
    b.ensure_duties(DUTIES)  # idempotent: a second worker finds the rows there
    return a, b


def marker(name: str) -> WorkerProcess:
    """Any row will do as "the duty's work": one committed or not is easy to see."""
    return WorkerProcess(id=name, host="h", pid=9, started_at=T0, heartbeat_at=T0)


def lease_row(sessions: sessionmaker[Session], duty: str) -> DutyLease:
    with sessions() as session:
        row = session.get(DutyLease, duty)
        assert row is not None
        return row


def test_a_free_duty_goes_to_one_worker_and_is_renewed_by_its_heartbeat(
    committed_engine: Engine,
) -> None:
    clock = ManualClock(T0)
    a, b = two_workers(committed_engine, clock)
    assert [lease.duty for lease in a.acquire(DUTIES)] == DUTIES
    assert b.acquire(DUTIES) == []  # all held and live
    clock.advance(TTL - timedelta(seconds=1))
    assert a.heartbeat() == []
    clock.advance(TTL - timedelta(seconds=1))  # past the first expiry, within the renewed one
    assert b.acquire(DUTIES) == []
    row = lease_row(a.sessions, "post-usage")
    assert row.holder == "worker-a"
    assert row.token == 1
    assert row.expires_at == T0 + 2 * TTL - timedelta(seconds=1)


def test_an_expired_lease_is_taken_over_under_a_larger_token(committed_engine: Engine) -> None:
    clock = ManualClock(T0)
    a, b = two_workers(committed_engine, clock)
    a.acquire(DUTIES)
    clock.advance(TTL)  # a died: no heartbeat; the lease lapses exactly at T0 + TTL
    taken = b.acquire(DUTIES)
    assert [(lease.duty, lease.token) for lease in taken] == [(d, 2) for d in DUTIES]
    assert a.heartbeat() == DUTIES  # a wakes up: every lease is lost, none renewed
    assert a.held == {}
    assert lease_row(a.sessions, "ingest-usage").holder == "worker-b"


def test_a_lapsed_lease_is_lost_even_if_nobody_took_it(committed_engine: Engine) -> None:
    clock = ManualClock(T0)
    a, _b = two_workers(committed_engine, clock)
    a.acquire(["post-usage"])
    clock.advance(TTL + timedelta(seconds=1))
    assert a.heartbeat() == ["post-usage"]


def test_the_fence_refuses_a_stale_holders_commit(committed_engine: Engine) -> None:
    """A paused worker resumes mid-duty after a take-over: its unit of work is rolled back."""
    clock = ManualClock(T0)
    a, b = two_workers(committed_engine, clock)
    a.acquire(["post-usage"])
    fenced_a = a.fenced(a.sessions, "post-usage")
    clock.advance(TTL)  # a is paused past its lease; b takes over
    assert [lease.token for lease in b.acquire(["post-usage"])] == [2]
    with pytest.raises(LeaseLost, match="token 1 lost"), unit_of_work(fenced_a) as session:
        session.add(marker("written-by-a"))  # a resumes and tries to commit its work
    with a.sessions() as session:
        assert session.get(WorkerProcess, "written-by-a") is None  # nothing of a's committed
    with unit_of_work(b.fenced(b.sessions, "post-usage")) as session:  # the holder commits
        session.add(marker("written-by-b"))
    with a.sessions() as session:
        assert session.get(WorkerProcess, "written-by-b") is not None


def test_a_lapsed_lease_nobody_took_still_commits_until_the_heartbeat_gives_it_up(
    committed_engine: Engine,
) -> None:
    """The token decides: nobody acquired (no new token), so nobody else did the work."""
    clock = ManualClock(T0)
    a, _b = two_workers(committed_engine, clock)
    a.acquire(["close-periods"])
    clock.advance(TTL)
    with unit_of_work(a.fenced(a.sessions, "close-periods")) as session:
        session.add(marker("long-unit-of-work"))
    assert a.heartbeat() == ["close-periods"]  # lapsed: the worker gives it up …
    with pytest.raises(LeaseLost), unit_of_work(a.fenced(a.sessions, "close-periods")) as s:
        s.add(marker("after"))  # … and commits nothing more under it


def test_release_frees_the_duty_at_once(committed_engine: Engine) -> None:
    clock = ManualClock(T0)
    a, b = two_workers(committed_engine, clock)
    a.acquire(DUTIES)
    a.release(["ingest-usage"])
    assert [lease.duty for lease in b.acquire(DUTIES)] == ["ingest-usage"]
    a.stop()
    assert [lease.duty for lease in b.acquire(DUTIES)] == ["close-periods", "post-usage"]
    with a.sessions() as session:
        assert session.get(WorkerProcess, "worker-a").stopped_at == T0  # type: ignore[union-attr]


def test_sqlite_refuses_a_second_live_worker(tmp_path: object) -> None:
    from pathlib import Path

    from computeport.db.engine import make_engine
    from computeport.db.schema import create_schema

    assert isinstance(tmp_path, Path)
    engine = make_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    create_schema(engine)
    clock = ManualClock(T0)
    sessions = make_session_factory(engine)
    Leases(sessions, "first", clock, TTL).register(host="elsewhere", pid=1)
    with pytest.raises(SecondWorker, match="SQLite allows one worker; use PostgreSQL"):
        Leases(sessions, "second", clock, TTL).register(host="here", pid=2)
    clock.advance(TTL)  # the first stopped beating (killed): a new one may start
    Leases(sessions, "third", clock, TTL).register(host="here", pid=3)


class Counting(Periodic):
    """A duty that counts its runs and commits through its fenced sessions."""

    def __init__(self, name: str, sessions: sessionmaker[Session]) -> None:
        super().__init__(timedelta(hours=1))
        self.name = name
        self.sessions = sessions
        self.runs = 0

    def run(self, now: datetime) -> str:
        with unit_of_work(self.sessions):
            self.runs += 1
        return "ran"


def test_two_workers_share_the_duties_and_the_survivor_takes_all_after_expiry(
    committed_engine: Engine,
) -> None:
    clock = ManualClock(T0)
    a, b = two_workers(committed_engine, clock)
    wa = Worker([Counting(d, a.fenced(a.sessions, d)) for d in DUTIES], a, clock)
    wb = Worker([Counting(d, b.fenced(b.sessions, d)) for d in DUTIES], b, clock)
    first = wa.run_round()
    assert first.acquired == ["close-periods", "ingest-usage"]  # a fair share: 2 of 3
    assert sorted(first.done) == ["close-periods", "ingest-usage"]
    assert wb.run_round().acquired == ["post-usage"]
    clock.advance(TTL / 2)  # a dies (no more heartbeats); b's heartbeat keeps its lease
    assert wb.beat() == []
    clock.advance(TTL / 2)  # a's leases lapse, and a no longer counts as live
    assert b.live_workers() == 1
    second = wb.run_round()
    assert second.acquired == ["close-periods", "ingest-usage"]
    with a.sessions() as session:
        runs = session.execute(
            select(DutyRun.duty, DutyRun.worker_id, DutyRun.token, DutyRun.outcome).order_by(
                DutyRun.id
            )
        ).all()
    assert [tuple(r) for r in runs] == [
        ("close-periods", "worker-a", 1, "ok"),
        ("ingest-usage", "worker-a", 1, "ok"),
        ("post-usage", "worker-b", 1, "ok"),
        ("close-periods", "worker-b", 2, "ok"),
        ("ingest-usage", "worker-b", 2, "ok"),
    ]
