"""Build the worker's loops for a deployment: ``build_loops(state)``.

The worker (:func:`computeport.worker.main.build_worker`, for ``computeport worker run`` and
the demo) calls it with the app's state (anything with ``settings``, ``sessions``, ``clock``
and ``backend``, e.g. ``computeport.http.state.AppState``).  What runs depends only on what
was injected: a back end that must be advanced (the virtual cluster) gets the advance loop;
every back end gets reconcile and ingest (with an inventory loaded, every active cluster its
own, and a planned virtual cluster its own from its commissioning date,
:mod:`computeport.worker.clusters`); posting, closing and expiry need no back end;
e-mail goes out only when SMTP is enabled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import ClusterBackend
from computeport.kit.clock import Clock
from computeport.settings import Settings
from computeport.worker.clusters import cluster_loops, inventory_connections, planned_virtual
from computeport.worker.duties import (
    AdvanceCluster,
    Advancing,
    ClosePeriods,
    DispatchOutbox,
    ExpireAwards,
    FollowDeployments,
    IngestUsage,
    PostTokenUsage,
    PostUsage,
    ReconcileAwards,
)
from computeport.worker.loop import Loop

__all__ = ["USAGE_EVERY", "WorkerContext", "build_loops"]

USAGE_EVERY = timedelta(hours=6)
"""How often usage is ingested and rated, in the centre's time (15 wall seconds at a day a
minute): each run is a database write, and SQLite has one writer."""


class WorkerContext(Protocol):
    """What the worker needs of the application's state."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def backend(self) -> ClusterBackend | None: ...


def build_loops(
    state: WorkerContext,
    sessions_for: Callable[[str], sessionmaker[Session]] | None = None,
) -> list[Loop]:
    """The deployment's loops, in the order a round runs them.

    ``sessions_for(duty)`` gives each duty its own session factory: the worker process passes
    :meth:`~computeport.worker.leases.Leases.fenced`, so every commit a duty makes checks its
    lease's fencing token first.
    """
    from computeport.award.cluster_audit import audit_applied_plan
    from computeport.award.desired import desired_state
    from computeport.billing.posting import post_all
    from computeport.billing.token_rating import post_all_tokens
    from computeport.metering.ingest import BillingUsageSink

    def db(duty: str) -> sessionmaker[Session]:
        return state.sessions if sessions_for is None else sessions_for(duty)

    loops: list[Loop] = []
    backend = state.backend
    several = inventory_connections(state.sessions) if backend is not None else []
    planned = planned_virtual(state.sessions) if several else []
    if backend is not None and several:
        loops += cluster_loops(
            [*several, *(c for c, _at in planned)],
            state.sessions,
            backend,
            state.clock,
            db,
            usage_every=USAGE_EVERY,
            starts={c.name: at for c, at in planned},
        )
    elif backend is not None:
        if isinstance(backend, Advancing):
            loops.append(AdvanceCluster(backend))
        loops.append(
            ReconcileAwards(
                db(ReconcileAwards.name), backend, desired_state, audit=audit_applied_plan
            )
        )
        if not isinstance(backend, Advancing):  # a real cluster: deployments may run on it
            loops.append(FollowDeployments(db(FollowDeployments.name), backend))
        epoch = getattr(backend, "epoch", None)
        loops.append(
            IngestUsage(
                db(IngestUsage.name),
                backend,
                state.clock,
                BillingUsageSink,
                every=USAGE_EVERY,
                first_since=epoch,
            )
        )
    # Posting needs no cluster: a worker without one (``--no-cluster``) still rates usage.
    loops.append(PostUsage(db(PostUsage.name), state.clock, post_all, every=USAGE_EVERY))
    loops.append(
        PostTokenUsage(db(PostTokenUsage.name), state.clock, post_all_tokens, every=USAGE_EVERY)
    )
    settings = state.settings
    if settings.auto_close_grace_days is not None:
        grace = timedelta(days=settings.auto_close_grace_days)
        loops.append(ClosePeriods(db(ClosePeriods.name), state.clock, grace))
    loops.append(ExpireAwards(db(ExpireAwards.name), state.clock))
    if settings.smtp_enabled:
        from computeport.notification.dispatcher import SmtpSender, dispatch_pending

        mailer = SmtpSender.from_settings(settings)

        outbox = db(DispatchOutbox.name)

        def send() -> object:
            return dispatch_pending(outbox, mailer, state.clock, sender=settings.smtp_sender)

        loops.append(DispatchOutbox(send, every=timedelta(minutes=5)))
    return loops
