"""audio metering: speech deployments and audio milliseconds on usage and charges (issue 21)

Revision ID: 0012_audio_metering
Revises: 0014_gateway_demo
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
down_revision: str | Sequence[str] | None = "0014_gateway_demo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_deployment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("modality", sa.String(length=16), nullable=False, server_default="text")
        )
    for table in ("token_usage", "token_charge"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("audio_ms", sa.BigInteger(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite >= 3.35), as in 0006: batch mode's table
    # rebuild drops ``model_deployment`` and ``token_usage``, and with ``PRAGMA foreign_keys=ON``
    # that deletes every upstream and every charge by ``ON DELETE CASCADE``.
    for table in ("token_charge", "token_usage"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN audio_ms")
    op.execute("ALTER TABLE model_deployment DROP COLUMN modality")
