"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from computeport.db.base import Base
from computeport.models import (
    application,
    audit,
    award,
    identity,
    notification,
    progress,
    scheme,
)

__all__ = [
    "Base",
    "application",
    "audit",
    "award",
    "identity",
    "notification",
    "progress",
    "scheme",
]
