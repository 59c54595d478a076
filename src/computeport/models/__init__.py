"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from computeport.db.base import Base
from computeport.models import (
    adjustment,
    application,
    audit,
    award,
    identity,
    ingest_cursor,
    invoicing,
    ledger,
    metering,
    notification,
    pricing,
    progress,
    reservation,
    review,
    rollup,
    scheme,
    sim_cluster,
)

__all__ = [
    "Base",
    "adjustment",
    "application",
    "audit",
    "award",
    "identity",
    "ingest_cursor",
    "invoicing",
    "ledger",
    "metering",
    "notification",
    "pricing",
    "progress",
    "reservation",
    "review",
    "rollup",
    "scheme",
    "sim_cluster",
]
