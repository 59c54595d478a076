"""Creating and upgrading the schema: always through the Alembic migrations.

Production (``computeport db upgrade``), the demo and every test build their databases the same
way, so the migrations (and the triggers only they carry) are exercised on every test run.
"""

from __future__ import annotations

from sqlalchemy import Engine

from computeport.db.migrate import upgrade


def create_schema(engine: Engine) -> None:
    """Bring ``engine``'s database to the newest schema (idempotent)."""
    upgrade(engine)
