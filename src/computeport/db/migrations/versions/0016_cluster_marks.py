"""cluster marks: each cluster up or down since when, and the award limits it confirmed (#12)

Revision ID: 0016_cluster_marks
Revises: 0011_award_shares
Create Date: 2026-12-04 21:00:00

Expand-only: two new tables, nothing existing changes (the ingest marks per cluster already live
in ``ingest_cursor``), so an API process of the previous version keeps answering while this runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_cluster_marks"
down_revision: str | Sequence[str] | None = "0013_gateway_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cluster_health",
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("checked_at", _TS, nullable=False),
        sa.Column("last_ok_at", _TS, nullable=True),
        sa.Column("down_since", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failing_duties", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", name=op.f("pk_cluster_health")),
    )
    op.create_table(
        "award_cluster_limit",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("gpu_minutes", sa.BigInteger(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["award.id"],
            name=op.f("fk_award_cluster_limit_award_id_award"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("award_id", "cluster", name=op.f("pk_award_cluster_limit")),
    )


def downgrade() -> None:
    op.drop_table("award_cluster_limit")
    op.drop_table("cluster_health")
