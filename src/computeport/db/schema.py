"""Creating and upgrading the schema.

Production and tests both go through Alembic (``computeport db upgrade``) so the migrations
are exercised on every test run.
"""

from __future__ import annotations

from sqlalchemy import Engine

import computeport.models  # noqa: F401 - registers every table on Base.metadata
from computeport.db.base import Base


def create_schema(engine: Engine) -> None:
    """Create all tables (development shortcut; replaced by Alembic upgrade in tests)."""
    Base.metadata.create_all(engine)
