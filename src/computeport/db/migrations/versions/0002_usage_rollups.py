"""usage, utilisation and wait rollups (issue 6: reports over 10M records)

Revision ID: 0002_usage_rollups
Revises: 0001
Create Date: 2026-11-25 13:40:00

The upgrade also fills both rollups from the rating rows already there, so an existing
database reports the same figures the moment it is migrated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from computeport.metering.rollups import ROLLUP_CURSOR, rebuild_connection

revision: str = "0002_usage_rollups"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_rollup",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("qos", sa.String(length=32), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.Column("gpu_seconds", sa.BigInteger(), nullable=False),
        sa.Column("list_minor", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_minor", sa.BigInteger(), nullable=False),
        sa.Column("copay_minor", sa.BigInteger(), nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("started_rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period",
            "organisation_id",
            "award_id",
            "qos",
            "accelerator_type",
            name=op.f("pk_usage_rollup"),
        ),
    )
    op.create_table(
        "utilisation_rollup",
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.Column("partition", sa.String(length=64), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("partial_gpu_seconds", sa.BigInteger(), nullable=False),
        sa.Column("full_gpus_delta", sa.BigInteger(), nullable=False),
        sa.Column("first_start", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "bucket_start", "partition", "accelerator_type", name=op.f("pk_utilisation_rollup")
        ),
    )
    op.create_table(
        "wait_rollup",
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day_start", "wait_seconds", name=op.f("pk_wait_rollup")),
    )
    rebuild_connection(op.get_bind())


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM billing_cursor WHERE name = :name").bindparams(name=ROLLUP_CURSOR)
    )
    op.drop_table("wait_rollup")
    op.drop_table("utilisation_rollup")
    op.drop_table("usage_rollup")
