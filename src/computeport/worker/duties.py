"""The duties of ``computeport serve``'s worker, each a :class:`~computeport.worker.loop.Loop`.

* :class:`AdvanceCluster` — moves a virtual cluster up to the centre's clock (a real cluster
  moves by itself, so a Slurm deployment has no such loop: the difference is the back end,
  not a branch);
* :class:`ReconcileAwards` — awards → desired state → plan → apply, on either back end;
* :class:`IngestUsage` — the cluster's accounting → billing's :class:`UsageSink`, resumable
  from the high-water mark, cursor and usage committed together;
* :class:`PostUsage` — rate the new usage and post it to the ledger;
* :class:`PostTokenUsage` — the same for the inference gateway's token usage;
* :class:`ExpireAwards` — awards past their end date expire (commitments shrink);
* :class:`DispatchOutbox` — send the queued notification e-mails.

Each runs its own unit of work: a failing duty rolls back alone and is tried again next time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import (
    AccountingRecord,
    AccountingSource,
    BackendError,
    ClusterBackend,
    DesiredState,
    ProvisioningPlan,
    UsageSink,
    reconcile,
)
from computeport.db.engine import unit_of_work
from computeport.kit.clock import Clock
from computeport.metering.accounting import ingest_accounting
from computeport.metering.reservations import reservation_records
from computeport.worker.cursor import DbCursorStore
from computeport.worker.loop import Periodic
from computeport.worker.watch import ClusterWatch

__all__ = [
    "AdvanceCluster",
    "Advancing",
    "DispatchOutbox",
    "ExpireAwards",
    "IngestUsage",
    "LimitBook",
    "PostTokenUsage",
    "PostUsage",
    "ReconcileAwards",
]


@runtime_checkable
class Advancing(Protocol):
    """A cluster that moves only when told to catch up with its clock (the virtual one)."""

    def advance(self, *, mark: bool = True) -> datetime: ...


class AdvanceCluster:
    """Every tick: bring the virtual cluster up to the clock; every ``mark_every`` of the
    centre's time, also record how far it got (a database write, so not every second)."""

    name = "advance-cluster"

    def __init__(self, cluster: Advancing, mark_every: timedelta = timedelta(days=1)) -> None:
        self.cluster = cluster
        self.mark_every = mark_every
        self.next_mark: datetime | None = None

    def tick(self, now: datetime) -> str | None:
        mark = self.next_mark is None or now >= self.next_mark
        if mark:
            self.next_mark = now + self.mark_every
        reached = self.cluster.advance(mark=mark)
        return f"cluster at {reached.isoformat()}"

    def close(self) -> None:
        """At shutdown: one last advance, so the cluster's journal is written."""
        self.cluster.advance()


class ReconcileAwards(Periodic):
    """Make the cluster match the awards (accounts, members, budgets, pauses)."""

    name = "reconcile-awards"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: ClusterBackend,
        desired: Callable[[Session, datetime], DesiredState],
        every: timedelta = timedelta(hours=1),
        audit: Callable[[Session, ProvisioningPlan, datetime], object] | None = None,
        *,
        watch: ClusterWatch | None = None,
        limits: LimitBook | None = None,
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.backend = backend
        self.desired = desired
        self.audit = audit
        """Records an applied plan (organisation moves) in its own unit of work."""
        self.watch = watch
        """One cluster of several: its duty is named after it and marks it up or down."""
        self.limits = limits
        """Shrink-first bookkeeping of the limits each cluster may act on (several clusters)."""
        if watch is not None:
            self.name = f"{type(self).name}@{watch.cluster}"

    def run(self, now: datetime) -> str | None:
        with self.sessions() as session:
            wanted = self.desired(session, now)
        cluster = self.watch.cluster if self.watch is not None else ""
        if self.limits is not None:
            with unit_of_work(self.sessions) as session:  # committed before the cluster acts
                self.limits.hold(session, cluster, wanted, now)
        try:
            plan = reconcile(self.backend, wanted)
        except BackendError as exc:
            if self.watch is not None:
                self.watch.failed(now, exc, self.name)
            raise
        if self.limits is not None:
            with unit_of_work(self.sessions) as session:  # the cluster confirmed every change
                self.limits.confirm(session, cluster, wanted, now)
        if self.watch is not None:
            self.watch.answered(now, self.name)
        if self.audit is not None and not plan.empty:
            with unit_of_work(self.sessions) as session:
                self.audit(session, plan, now)
        said = [f"{len(plan.changes)} change(s) applied"] if not plan.empty else []
        said += [d.describe() for d in plan.deferred]  # retried by the next run
        return "; ".join(said) or None


class LimitBook(Protocol):
    """The award domain's shrink-first bookkeeping (:mod:`computeport.award.cluster_limits`)."""

    def hold(self, session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
        """Before applying: record the raises ``state`` makes as held."""

    def confirm(self, session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
        """After the cluster applied all of ``state``: record its limits as confirmed."""


class IngestUsage(Periodic):
    """Hand the cluster's finished jobs to billing, once each."""

    name = "ingest-usage"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: AccountingSource,
        clock: Clock,
        sink: Callable[[Session, Clock], UsageSink],
        *,
        every: timedelta = timedelta(hours=1),
        first_since: datetime | None = None,
        window: timedelta = timedelta(days=1),
        watch: ClusterWatch | None = None,
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.source = source
        self.clock = clock
        self.sink = sink
        self.first_since = first_since
        self.window = window
        self.watch = watch
        """One cluster of several: its duty is named after it and marks it up or down."""
        if watch is not None:
            self.name = f"{type(self).name}@{watch.cluster}"

    def run(self, now: datetime) -> str | None:
        try:
            said = self._ingest()
        except BackendError as exc:  # the cluster did not answer: nothing was written
            if self.watch is not None:
                self.watch.failed(now, exc, self.name)
            raise
        if self.watch is not None:
            self.watch.answered(now, self.name)
        return said

    def _ingest(self) -> str | None:
        upto = self.clock.now()  # one instant for the whole run: the read covers every window
        with unit_of_work(self.sessions) as session:
            store = DbCursorStore(session)
            fresh = store.load(self.source.cluster) is None
            sink = self.sink(session, self.clock)
            result = ingest_accounting(
                _ReadOnce(self.source, upto),
                sink,
                store,
                _Fixed(upto),
                since=self.first_since if fresh else None,
                window=self.window,
            )
            # Ended reservations of awards that pay for them: their top-up, after the jobs.
            topups = reservation_records(session, self.source.cluster, upto)
            reserved = sink.accept(topups) if topups else 0
        return (
            f"{result.accepted + reserved} new usage record(s)"
            if result.accepted or reserved
            else None
        )


class _ReadOnce:
    """Reads the whole span on the first window, then serves the later windows from it.

    So the cluster is read *before* billing starts writing: with SQLite, a back end that
    writes its own journal (the virtual cluster) must never wait on the cluster's lock while
    this unit of work holds the database's write lock.
    """

    def __init__(self, source: AccountingSource, upto: datetime) -> None:
        self.source = source
        self.upto = upto
        self.records: list[AccountingRecord] | None = None

    @property
    def cluster(self) -> str:
        return self.source.cluster

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        if self.records is None:
            self.records = self.source.accounting(since, max(until, self.upto))
        return [r for r in self.records if since <= r.end_time < until]


class _Fixed:
    """The run's one instant, so ingest's windows end where the read ended."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class PostUsage(Periodic):
    """Rate the ingested usage and post it to the ledger."""

    name = "post-usage"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        post: Callable[[Session, Clock], object],
        every: timedelta = timedelta(hours=1),
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.clock = clock
        self.post = post

    def run(self, now: datetime) -> str | None:
        with unit_of_work(self.sessions) as session:
            report = self.post(session, self.clock)
        return str(report)


class PostTokenUsage(PostUsage):
    """Rate the gateway's token usage (at the rate card's token prices) and post it."""

    name = "post-token-usage"


class FollowDeployments(Periodic):
    """Point the deployments launched as Slurm jobs at the endpoints their running jobs
    report, and drop those of ended jobs (:mod:`computeport.gateway.follow`)."""

    name = "follow-deployments"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: ClusterBackend,
        every: timedelta = timedelta(minutes=1),
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.backend = backend

    def run(self, now: datetime) -> str | None:
        from computeport.gateway.follow import follow

        with unit_of_work(self.sessions) as session:
            changed = follow(session, self.backend)
        summary = [f"{model}: {len(urls)} upstream(s)" for model, urls in changed.items()]
        return "; ".join(summary) or None


class ClosePeriods(Periodic):
    """Close every month that ended ``grace`` ago and has charges no close covered yet.

    Each month closes in its own transaction, so one that fails (e.g. a template error) does
    not hold back the others; the next run retries it.
    """

    name = "close-periods"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        grace: timedelta,
        every: timedelta = timedelta(days=1),
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.clock = clock
        self.grace = grace

    def run(self, now: datetime) -> str | None:
        from computeport.invoicing.auto_close import periods_due
        from computeport.invoicing.close import close_period

        with self.sessions() as session:
            due = periods_due(session, now, self.grace)
        issued: list[str] = []
        for period in due:
            with unit_of_work(self.sessions) as session:
                report = close_period(session, self.clock, period)
            issued.append(f"{period}: {len(report.documents)} documents")
        return f"closed {'; '.join(issued)}" if issued else None


class ExpireAwards(Periodic):
    """Expire every award whose end has passed (idempotent)."""

    name = "expire-awards"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        every: timedelta = timedelta(hours=6),
    ) -> None:
        super().__init__(every)
        self.sessions = sessions
        self.clock = clock

    def run(self, now: datetime) -> str | None:
        from computeport.award.lifecycle import expire_due

        with unit_of_work(self.sessions) as session:
            done = expire_due(session, self.clock)
        return f"expired {', '.join(e.reference for e in done)}" if done else None


class DispatchOutbox(Periodic):
    """Send the notification e-mails that are due."""

    name = "dispatch-outbox"

    def __init__(
        self,
        send: Callable[[], object],
        every: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__(every)
        self.send = send

    def run(self, now: datetime) -> str | None:
        return str(self.send())
