"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from computeport.db.base import Base

__all__ = ["Base"]
