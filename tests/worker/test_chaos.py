"""Chaos on real PostgreSQL: three ``computeport worker run`` processes, killed at random.

Over 50 rounds a batch of usage is ingested, then a worker is killed with SIGKILL (one busy
with a duty when there is one) and a new one started; the lease is 3 s, so duties change hands
all the time.  Afterwards every usage record is rated exactly once, every journal balances,
the invoices equal those of a run without kills (computed in-process on a second database),
and no two workers ever ran the same duty at once (``worker_duty_run``; a killed run ends at
its kill).  Waits poll the database with a deadline.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.lifecycle import expire_due
from computeport.backends import AccountingRecord
from computeport.billing.posting import post_all
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.invoicing.auto_close import periods_due
from computeport.invoicing.close import close_period
from computeport.kit.clock import SystemClock
from computeport.models.worker import DutyLease, DutyRun, WorkerProcess
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix
from tests.worker.chaos import (
    Fleet,
    ingest,
    invoice_totals,
    ratings_not_once,
    seed_centre,
    settled,
    unbalanced_journals,
    usage_batches,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROUNDS = 50
WORKERS = 3
LEASE_SECONDS = 3.0
BATCH = 20


def busy_pids(sessions: sessionmaker[Session], alive: set[int]) -> list[int]:
    """Pids of live workers in the middle of a duty run."""
    with sessions() as session:
        pids = session.scalars(
            select(WorkerProcess.pid)
            .join(DutyRun, DutyRun.worker_id == WorkerProcess.id)
            .where(DutyRun.ended_at.is_(None))
        ).all()
    return sorted({p for p in pids if p in alive})


def up(sessions: sessionmaker[Session], fleet: Fleet) -> list[int]:
    """Pids of live worker processes that have registered (their duties may run)."""
    with sessions() as session:
        pids = set(session.scalars(select(WorkerProcess.pid)).all())
    return sorted(p.pid for p in fleet.alive() if p.pid in pids)


def registered(sessions: sessionmaker[Session], fleet: Fleet) -> bool:
    """Every live worker process has its row (its signal handlers are in place)."""
    with sessions() as session:
        pids = set(session.scalars(select(WorkerProcess.pid)).all())
    return all(p.pid in pids for p in fleet.alive())


def run_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(DutyRun.id)).all())


def reference_invoices(
    url: str, now: datetime, batches: list[list[AccountingRecord]]
) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """The same centre and usage, run once in-process without kills."""
    engine = make_engine(url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    seed_centre(sessions, now)
    for batch in batches:
        ingest(sessions, batch)
    clock = SystemClock()
    with unit_of_work(sessions) as session:
        post_all(session, clock)
    with sessions() as session:
        due = periods_due(session, clock.now(), timedelta(0))
    for period in due:
        with unit_of_work(sessions) as session:
            close_period(session, clock, period)
    with unit_of_work(sessions) as session:
        expire_due(session, clock)
    totals = invoice_totals(sessions)
    engine.dispose()
    return totals


def overlaps(sessions: sessionmaker[Session], killed: dict[int, datetime]) -> tuple[list[str], int]:
    """Runs of one duty that overlapped in time (a killed run ends at its kill), and the number
    of runs refused by the fence (those never committed, so they may overlap)."""
    with sessions() as session:
        rows = session.execute(
            select(DutyRun, WorkerProcess.pid)
            .join(WorkerProcess, WorkerProcess.id == DutyRun.worker_id)
            .order_by(DutyRun.duty, DutyRun.started_at)
        ).all()
    found: list[str] = []
    fenced = 0
    latest: dict[str, tuple[datetime, int]] = {}
    for run, pid in rows:
        if run.error is not None and run.error.startswith("LeaseLost"):
            fenced += 1
            continue
        end = run.ended_at or killed.get(pid)
        assert end is not None, f"run {run.id} of {run.duty} never ended and was not killed"
        previous = latest.get(run.duty)
        if previous is not None and previous[0] > run.started_at:
            found.append(f"{run.duty}: run {run.id} started before run {previous[1]} ended")
        if previous is None or end > previous[0]:
            latest[run.duty] = (end, run.id)
    return found, fenced


def test_killed_workers_leave_every_duty_done_once_and_the_books_as_without_kills(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    url = fresh_postgres_database(f"cp_chaos_{worker_suffix()}")
    ref_url = fresh_postgres_database(f"cp_chaos_ref_{worker_suffix()}")
    engine = make_engine(url)
    fleet = Fleet(url, LEASE_SECONDS, tmp_path)
    try:
        create_schema(engine)
        sessions = make_session_factory(engine)
        seed_centre(sessions, now)
        batches = usage_batches(now, ROUNDS + 1, BATCH)
        ingest(sessions, batches[0])
        for _ in range(WORKERS):
            fleet.start()
        assert wait_until(lambda: run_count(sessions) > 0, 120), "no worker ever ran a duty"
        rng = random.Random(5)
        mid_duty = 0
        for round_ in range(ROUNDS):
            ingest(sessions, batches[round_ + 1])
            # Only workers that are up (registered) are worth killing: one starts in seconds.
            assert wait_until(lambda: bool(up(sessions, fleet)), 60), "no worker came up"
            pids = set(up(sessions, fleet))
            # A random moment: as soon as some worker is mid-duty, or after up to 1.5 s.
            wait_until(lambda: bool(busy_pids(sessions, pids)), rng.uniform(0.3, 1.5))  # noqa: B023
            busy = busy_pids(sessions, pids)
            if busy and rng.random() < 0.8:
                pid = rng.choice(busy)
                mid_duty += 1
            else:
                pid = rng.choice(sorted(pids))
            fleet.kill(next(p for p in fleet.processes if p.pid == pid))
            fleet.start()
        assert wait_until(lambda: settled(sessions, datetime.now(UTC)), 120), (
            "the workers did not finish the work within 120 s"
        )
        assert wait_until(lambda: registered(sessions, fleet), 60), "a worker never started"
        codes = fleet.terminate_all()
        assert codes == [0] * len(codes), f"workers did not stop gracefully: {codes}"
        with sessions() as session:
            held = session.scalars(select(DutyLease).where(DutyLease.holder.is_not(None))).all()
        assert held == [], "a worker stopped by SIGTERM kept a lease"

        assert len(fleet.killed) == ROUNDS
        assert ratings_not_once(sessions) == []
        assert unbalanced_journals(sessions) == []
        found, fenced = overlaps(sessions, fleet.killed)
        assert found == []
        chaos = invoice_totals(sessions)
        assert chaos, "no invoices: the test proved nothing"
        assert chaos == reference_invoices(ref_url, now, batches)
        print(
            f"chaos: {ROUNDS} kills ({mid_duty} mid-duty), {fleet.started} workers started, "
            f"{run_count(sessions)} duty runs, {fenced} refused by the fence"
        )
    finally:
        fleet.kill_all()
        engine.dispose()
        drop_postgres_database(url)
        drop_postgres_database(ref_url)
