"""audio metering: speech deployments and audio milliseconds on usage and charges (issue 21)

Revision ID: 0012_audio_metering
Revises: 0017_site_views
Create Date: 2026-12-04 21:00:00

Adds ``model_deployment.modality`` (``text`` for every existing deployment), and
``audio_ms`` on ``token_usage`` and ``token_charge`` (0 for every existing row: they were all
tokens). Columns with server defaults only, so an API process of the previous version keeps
writing while this runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_audio_metering"
down_revision: str | Sequence[str] | None = "0017_site_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Native ADD COLUMN on both engines (no table rebuild: see downgrade).
    op.add_column(
        "model_deployment",
        sa.Column("modality", sa.String(length=16), nullable=False, server_default="text"),
    )
    for table in ("token_usage", "token_charge"):
        op.add_column(
            table, sa.Column("audio_ms", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite >= 3.35), as in 0006: batch mode's table
    # rebuild drops ``model_deployment`` and ``token_usage``, and with ``PRAGMA foreign_keys=ON``
    # that deletes every upstream and every charge by ``ON DELETE CASCADE``.
    for table in ("token_charge", "token_usage"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN audio_ms")
    op.execute("ALTER TABLE model_deployment DROP COLUMN modality")
