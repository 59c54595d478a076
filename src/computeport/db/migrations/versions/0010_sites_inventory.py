"""the centre's inventory: sites, clusters, partitions, accelerator types (issue 12)

Revision ID: 0010_sites_inventory
Revises: 0006_rate_card
Create Date: 2026-12-04 17:40:00

Expand-only: four new tables filled by ``computeport clusters load``; nothing existing
changes, so processes of the previous version keep running while this applies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_sites_inventory"
down_revision: str | Sequence[str] | None = "0006_rate_card"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accelerator_type",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("vendor", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("memory_gb", sa.Integer(), nullable=False),
        sa.Column("peak_pflops", sa.Numeric(18, 6), nullable=False),
        sa.Column("precision", sa.String(32), nullable=False),
        sa.Column("assumption", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accelerator_type")),
        sa.UniqueConstraint("name", name=op.f("uq_accelerator_type_name")),
    )
    op.create_table(
        "centre_site",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened", sa.Date(), nullable=True),
        sa.Column("assumption", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_site")),
        sa.UniqueConstraint("key", name=op.f("uq_centre_site_key")),
    )
    op.create_table(
        "centre_cluster",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("commissioned", sa.Date(), nullable=True),
        sa.Column("connection", sa.JSON(), nullable=False),
        sa.Column("assumption", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["centre_site.id"], name=op.f("fk_centre_cluster_site_id_centre_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_cluster")),
        sa.UniqueConstraint("name", name=op.f("uq_centre_cluster_name")),
    )
    op.create_table(
        "centre_partition",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("accelerator_id", sa.Uuid(), nullable=False),
        sa.Column("gpus_per_node", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accelerator_id"],
            ["accelerator_type.id"],
            name=op.f("fk_centre_partition_accelerator_id_accelerator_type"),
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["centre_cluster.id"],
            name=op.f("fk_centre_partition_cluster_id_centre_cluster"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_partition")),
        sa.UniqueConstraint("cluster_id", "name", name=op.f("uq_centre_partition_cluster_id_name")),
    )


def downgrade() -> None:
    op.drop_table("centre_partition")
    op.drop_table("centre_cluster")
    op.drop_table("centre_site")
    op.drop_table("accelerator_type")
