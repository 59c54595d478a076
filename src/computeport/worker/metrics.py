"""Prometheus metrics of a worker's duties, served on ``--metrics-port`` (off by default).

* ``computeport_duty_runs_total{duty}`` and ``computeport_duty_failures_total{duty}``;
* ``computeport_duty_duration_seconds{duty}`` (a histogram of wall seconds per run);
* ``computeport_ingest_lag_seconds{cluster}`` — the centre's now minus the ingest
  high-water mark (how far billing's view of the cluster is behind);
* ``computeport_posting_lag_records`` — usage records ingested but not yet rated.

Each worker has its own registry (no process-global state: tests build many workers).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.kit.clock import Clock
from computeport.metering.cursor import RATING_CURSOR
from computeport.models.ingest_cursor import IngestCursorRow
from computeport.models.metering import BillingCursor, UsageRecord

__all__ = ["WorkerMetrics"]


class WorkerMetrics:
    """The duty metrics of one worker, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter("computeport_duty_runs", "Duty runs", ["duty"], registry=self.registry)
        self.failures = Counter(
            "computeport_duty_failures", "Duty runs that failed", ["duty"], registry=self.registry
        )
        self.duration = Histogram(
            "computeport_duty_duration_seconds",
            "Wall seconds per duty run",
            ["duty"],
            registry=self.registry,
        )
        self.ingest_lag = Gauge(
            "computeport_ingest_lag_seconds",
            "Centre time minus the ingest high-water mark",
            ["cluster"],
            registry=self.registry,
        )
        self.posting_lag = Gauge(
            "computeport_posting_lag_records",
            "Usage records ingested but not yet rated and posted",
            registry=self.registry,
        )

    def observe_run(self, duty: str, seconds: float, error: str | None) -> None:
        self.runs.labels(duty).inc()
        self.duration.labels(duty).observe(seconds)
        if error is not None:
            self.failures.labels(duty).inc()

    def observe_lag(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        """Read the ingest marks and the rating cursor (one short read)."""
        now = clock.now()
        with sessions() as session:
            for cluster, high_water in session.execute(
                select(IngestCursorRow.cluster, IngestCursorRow.high_water)
            ):
                self.ingest_lag.labels(cluster).set(max(0.0, (now - high_water).total_seconds()))
            position = session.scalar(
                select(BillingCursor.position).where(BillingCursor.name == RATING_CURSOR)
            )
            pending = session.scalar(
                select(func.count())
                .select_from(UsageRecord)
                .where(UsageRecord.id > int(position or 0))
            )
        self.posting_lag.set(int(pending or 0))

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``addr:port`` from a daemon thread."""
        start_http_server(port, addr=addr, registry=self.registry)
