"""Build the worker's loops for a deployment and start them: ``start_background(state)``.

``computeport serve`` calls :func:`start_background` with the app's state (anything with
``settings``, ``sessions``, ``clock`` and ``backend``, e.g. ``computeport.http.state.AppState``)
and stops the handle on exit.  What runs depends only on what was injected: a back end that
must be advanced (the virtual cluster) gets the advance loop; every back end gets reconcile and
ingest; e-mail goes out only when SMTP is enabled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import ClusterBackend
from computeport.kit.clock import Clock
from computeport.settings import Settings
from computeport.worker.duties import (
    AdvanceCluster,
    Advancing,
    ClosePeriods,
    DispatchOutbox,
    ExpireAwards,
    IngestUsage,
    PostUsage,
    ReconcileAwards,
)
from computeport.worker.loop import Loop
from computeport.worker.runner import WorkerThread

__all__ = ["USAGE_EVERY", "WorkerContext", "build_loops", "start_background"]

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


def build_loops(state: WorkerContext) -> list[Loop]:
    """The deployment's loops, in the order a round runs them."""
    from computeport.award.cluster_audit import audit_applied_plan
    from computeport.award.desired import desired_state
    from computeport.billing.posting import post_all
    from computeport.metering.ingest import BillingUsageSink

    loops: list[Loop] = []
    backend = state.backend
    if backend is not None:
        if isinstance(backend, Advancing):
            loops.append(AdvanceCluster(backend))
        loops.append(
            ReconcileAwards(state.sessions, backend, desired_state, audit=audit_applied_plan)
        )
        epoch = getattr(backend, "epoch", None)
        loops.append(
            IngestUsage(
                state.sessions,
                backend,
                state.clock,
                BillingUsageSink,
                every=USAGE_EVERY,
                first_since=epoch,
            )
        )
        loops.append(PostUsage(state.sessions, state.clock, post_all, every=USAGE_EVERY))
    settings = state.settings
    if settings.auto_close_grace_days is not None:
        grace = timedelta(days=settings.auto_close_grace_days)
        loops.append(ClosePeriods(state.sessions, state.clock, grace))
    loops.append(ExpireAwards(state.sessions, state.clock))
    if settings.smtp_enabled:
        from computeport.notification.dispatcher import SmtpSender, dispatch_pending

        mailer = SmtpSender.from_settings(settings)

        def send() -> object:
            return dispatch_pending(
                state.sessions, mailer, state.clock, sender=settings.smtp_sender
            )

        loops.append(DispatchOutbox(send, every=timedelta(minutes=5)))
    return loops


def start_background(state: WorkerContext, *, interval: float = 1.0) -> WorkerThread:
    """Start the worker thread for ``state``; call ``.stop()`` on the handle at shutdown."""
    return WorkerThread(build_loops(state), state.clock, interval=interval).start()
