"""Duty leases in the database: which worker may run which duty, and a fencing token.

Any number of ``computeport worker`` processes share one PostgreSQL.  Each duty (ingest, post,
close, …) has one ``duty_lease`` row.  A worker *acquires* a free or expired row with
``SELECT … FOR UPDATE SKIP LOCKED`` followed by a conditional ``UPDATE`` (holder, expiry, and
``token = token + 1``); its heartbeat *renews* the expiry; at shutdown it *releases* the row.
A worker that dies (SIGKILL, a lost machine) stops renewing; once ``expires_at`` passes another
worker acquires the duty, so the hand-over takes at most one lease period plus one round.

The fencing token closes the gap a lease alone leaves open: a worker that was paused or
partitioned past its expiry may wake up in the middle of a duty and try to commit.  Every
duty's unit of work calls :meth:`Leases.fence` just before its commit (``before_commit`` on the
duty's own session factory): it locks the lease row (``FOR UPDATE``) and refuses with
:class:`LeaseLost` unless this worker still holds it under the token it acquired (a heartbeat
that found the lease lapsed also gives it up, so the worker stops using it).  The row lock
keeps a new holder from acquiring between the check and the commit, so a stale worker's work
is rolled back, never half-applied.

Why this and not the alternatives:

* **Advisory locks** (``pg_try_advisory_lock``) live in a *session*: the lock is held by one
  connection for as long as a duty runs, which fights the connection pool, gives no token to
  check inside another transaction, leaves no row to show in ``worker status``, and does not
  exist on SQLite.  A lease row is plain SQL on both engines and is visible to operators.
* **procrastinate** (a PostgreSQL job queue) schedules *jobs* (one-off tasks with arguments);
  our duties are a fixed set of periodic, idempotent catch-up loops that each need a single
  owner, not a queue.  It would add a second schema, an async runtime and no fencing, and
  would not run on the embedded SQLite default.

SQLite (the embedded default) allows one worker: :meth:`Leases.register` refuses a second one
whose heartbeat is live (:class:`SecondWorker`).  Time comes from an injected clock (wall
time in production; hosts' clocks must agree to well under a lease period, as NTP gives),
so tests drive expiry with a manual clock.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import unit_of_work
from computeport.kit.clock import Clock
from computeport.models.worker import DutyLease, DutyRun, WorkerProcess

__all__ = ["Lease", "LeaseLost", "Leases", "SecondWorker"]


class LeaseLost(RuntimeError):
    """This worker no longer holds the duty's lease (expired, taken over): nothing commits."""


class SecondWorker(RuntimeError):
    """A second worker on SQLite, which allows one."""


@dataclass(frozen=True)
class Lease:
    """A held lease: the duty, the fencing token it was acquired under, and its expiry."""

    duty: str
    token: int
    expires_at: datetime


class Leases:
    """One worker's view of the lease table: what it holds, and the operations on it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        worker_id: str,
        clock: Clock,
        ttl: timedelta,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("worker_lease_seconds: a lease must last a positive time")
        self.sessions = sessions
        self.worker_id = worker_id
        self.clock = clock
        self.ttl = ttl
        self.held: dict[str, Lease] = {}

    # -- the worker's own row ---------------------------------------------------------

    def register(self, host: str | None = None, pid: int | None = None) -> None:
        """Record this worker; on SQLite refuse if another worker's heartbeat is live."""
        host = host or socket.gethostname()
        pid = os.getpid() if pid is None else pid
        now = self.clock.now()
        with unit_of_work(self.sessions) as session:
            if session.connection().dialect.name == "sqlite":
                for other in session.scalars(
                    select(WorkerProcess).where(
                        WorkerProcess.id != self.worker_id,
                        WorkerProcess.stopped_at.is_(None),
                        WorkerProcess.heartbeat_at > now - self.ttl,
                    )
                ):
                    if other.host == host and not _alive(other.pid):
                        other.stopped_at = now  # died on this machine: its row is stale
                        continue
                    raise SecondWorker(
                        f"another worker is running (pid {other.pid} on {other.host}, "
                        f"heartbeat {other.heartbeat_at.isoformat()}): "
                        "SQLite allows one worker; use PostgreSQL for more"
                    )
            session.merge(
                WorkerProcess(
                    id=self.worker_id, host=host, pid=pid, started_at=now, heartbeat_at=now
                )
            )

    def live_workers(self) -> int:
        """How many workers (this one included) have a live heartbeat."""
        now = self.clock.now()
        with self.sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(WorkerProcess)
                .where(
                    WorkerProcess.stopped_at.is_(None),
                    WorkerProcess.heartbeat_at > now - self.ttl,
                )
            )
        return int(count or 0)

    def ensure_duties(self, duties: Iterable[str]) -> None:
        """Create the lease rows the first time a duty is known (idempotent, race-free)."""
        names = sorted(set(duties))
        if not names:
            return
        with unit_of_work(self.sessions) as session:
            dialect = session.connection().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(DutyLease)
                .values([{"duty": n, "token": 0} for n in names])
                .on_conflict_do_nothing()
            )

    # -- acquire, renew, release ------------------------------------------------------

    def acquire(self, duties: Sequence[str], limit: int | None = None) -> list[Lease]:
        """Take the free or expired leases among ``duties`` (at most ``limit``); skip locked rows.

        Each acquisition increments the row's token: the new holder's token is larger than
        any token a previous holder could still present.
        """
        wanted = [d for d in duties if d not in self.held]
        if not wanted or (limit is not None and limit <= 0):
            return []
        now = self.clock.now()
        taken: list[Lease] = []
        with unit_of_work(self.sessions) as session:
            query = (
                select(DutyLease.duty, DutyLease.token)
                .where(
                    DutyLease.duty.in_(wanted),
                    or_(
                        DutyLease.holder.is_(None),
                        DutyLease.expires_at.is_(None),
                        DutyLease.expires_at <= now,
                    ),
                )
                .order_by(DutyLease.duty)
                .with_for_update(skip_locked=True)
            )
            if limit is not None:
                query = query.limit(limit)
            for duty, token in session.execute(query).all():
                expires = now + self.ttl
                done = session.execute(
                    update(DutyLease)
                    .where(DutyLease.duty == duty, DutyLease.token == token)
                    .values(holder=self.worker_id, token=token + 1, expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(done) == 1:
                    taken.append(Lease(duty, int(token) + 1, expires))
        for lease in taken:
            self.held[lease.duty] = lease
        return taken

    def heartbeat(self) -> list[str]:
        """Renew every held lease and this worker's heartbeat; return the duties lost.

        A lease renews only if it is still ours, under our token, and unexpired: one that
        lapsed (the process was paused) is lost even if nobody took it yet.
        """
        now = self.clock.now()
        lost: list[str] = []
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(WorkerProcess)
                .where(WorkerProcess.id == self.worker_id)
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
            for duty, lease in sorted(self.held.items()):
                expires = now + self.ttl
                done = session.execute(
                    update(DutyLease)
                    .where(
                        DutyLease.duty == duty,
                        DutyLease.holder == self.worker_id,
                        DutyLease.token == lease.token,
                        DutyLease.expires_at > now,
                    )
                    .values(expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(done) == 1:
                    self.held[duty] = Lease(duty, lease.token, expires)
                else:
                    lost.append(duty)
        for duty in lost:
            self.held.pop(duty, None)
        return lost

    def release(self, duties: Iterable[str] | None = None) -> None:
        """Give leases back at once (shutdown), so another worker need not wait for expiry."""
        names = sorted(self.held if duties is None else set(duties) & set(self.held))
        if not names:
            return
        with unit_of_work(self.sessions) as session:
            for duty in names:
                session.execute(
                    update(DutyLease)
                    .where(
                        DutyLease.duty == duty,
                        DutyLease.holder == self.worker_id,
                        DutyLease.token == self.held[duty].token,
                    )
                    .values(holder=None, expires_at=None)
                    .execution_options(synchronize_session=False)
                )
        for duty in names:
            self.held.pop(duty, None)

    def stop(self) -> None:
        """Release everything and mark this worker stopped."""
        self.release()
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(WorkerProcess)
                .where(WorkerProcess.id == self.worker_id)
                .values(stopped_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )

    # -- the fence --------------------------------------------------------------------

    def fence(self, session: Session, duty: str) -> None:
        """Refuse (raise :class:`LeaseLost`) unless ``duty`` is still ours; call before commit.

        Locks the lease row for the rest of the transaction, so no one acquires it between
        this check and the commit.  The token decides, not the expiry: every take-over
        increments the token under this row's lock, so an unchanged token proves nobody else
        ran the duty since we acquired it, even if our lease lapsed meanwhile (e.g. SQLite's
        one writer kept our heartbeat waiting during a long unit of work).
        """
        lease = self.held.get(duty)
        if lease is None:
            raise LeaseLost(f"duty {duty!r}: this worker holds no lease")
        row = session.execute(
            select(DutyLease.holder, DutyLease.token, DutyLease.expires_at)
            .where(DutyLease.duty == duty)
            .with_for_update()
        ).one_or_none()
        if row is None or row.holder != self.worker_id or row.token != lease.token:
            self.held.pop(duty, None)
            raise LeaseLost(
                f"duty {duty!r}: lease under token {lease.token} lost "
                f"(now held by {None if row is None else row.holder}, "
                f"token {None if row is None else row.token}); the work is rolled back"
            )

    def fenced(self, sessions: sessionmaker[Session], duty: str) -> sessionmaker[Session]:
        """A session factory like ``sessions`` whose every commit is fenced on ``duty``."""
        from sqlalchemy import event

        factory: sessionmaker[Session] = sessionmaker(class_=sessions.class_, **sessions.kw)

        def check(session: Session) -> None:
            self.fence(session, duty)

        event.listen(factory, "before_commit", check)
        return factory

    # -- the run history --------------------------------------------------------------

    def run_started(self, duty: str) -> int:
        """Record that ``duty`` starts under our token (fenced); the run's id."""
        lease = self.held.get(duty)
        if lease is None:
            raise LeaseLost(f"duty {duty!r}: this worker holds no lease")
        with unit_of_work(self.sessions) as session:
            self.fence(session, duty)
            run = DutyRun(
                duty=duty,
                worker_id=self.worker_id,
                token=lease.token,
                started_at=self.clock.now(),
            )
            session.add(run)
            session.flush()
            return run.id

    def run_ended(self, run_id: int, duty: str, error: str | None) -> None:
        """Record the run's end and outcome, and the duty's last run and last error."""
        now = self.clock.now()
        outcome = "ok" if error is None else "failed"
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(DutyRun)
                .where(DutyRun.id == run_id)
                .values(ended_at=now, outcome=outcome, error=error)
                .execution_options(synchronize_session=False)
            )
            values: dict[str, object] = {"last_run_at": now, "last_error": error}
            if error is None:
                values["last_ok_at"] = now
            session.execute(
                update(DutyLease)
                .where(DutyLease.duty == duty)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
