"""award shares: an award's GPU-hours split per cluster plus a reserve; award places (issue 12)

Revision ID: 0011_award_shares
Revises: 0007_inference_gateway
Create Date: 2026-12-04 18:20:00

Adds ``award_line.reserve_hours`` and three tables. Backfill: every existing line's hours go
to the reserve, then, where exactly one cluster of the inventory has partitions of the line's
accelerator type (today's single cluster), all of them become that cluster's share, so existing
awards keep running where they ran. With no inventory loaded yet they stay in the reserve until
an operator places them (``computeport award shares move``).
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_award_shares"
down_revision: str | Sequence[str] | None = "0007_inference_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("award_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reserve_hours", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            op.f("ck_award_line_reserve_non_negative"), "reserve_hours >= 0"
        )
    op.create_table(
        "award_place",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("cluster_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(site_id IS NULL AND cluster_id IS NOT NULL)"
            " OR (site_id IS NOT NULL AND cluster_id IS NULL)",
            name=op.f("ck_award_place_site_or_cluster"),
        ),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["award.id"],
            name=op.f("fk_award_place_award_id_award"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["centre_site.id"], name=op.f("fk_award_place_site_id_centre_site")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["centre_cluster.id"],
            name=op.f("fk_award_place_cluster_id_centre_cluster"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_place")),
        sa.UniqueConstraint(
            "award_id",
            "site_id",
            "cluster_id",
            name=op.f("uq_award_place_award_id_site_id_cluster_id"),
        ),
    )
    op.create_index(op.f("ix_award_place_award_id"), "award_place", ["award_id"])
    op.create_table(
        "award_share",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("award_line_id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("gpu_hours", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("gpu_hours >= 0", name=op.f("ck_award_share_gpu_hours_non_negative")),
        sa.ForeignKeyConstraint(
            ["award_line_id"],
            ["award_line.id"],
            name=op.f("fk_award_share_award_line_id_award_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["centre_cluster.id"],
            name=op.f("fk_award_share_cluster_id_centre_cluster"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_share")),
        sa.UniqueConstraint(
            "award_line_id", "cluster_id", name=op.f("uq_award_share_award_line_id_cluster_id")
        ),
    )
    op.create_index(op.f("ix_award_share_award_line_id"), "award_share", ["award_line_id"])
    op.create_index(op.f("ix_award_share_cluster_id"), "award_share", ["cluster_id"])
    op.create_table(
        "award_share_move",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("accelerator_type", sa.String(32), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("gpu_hours", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("gpu_hours > 0", name=op.f("ck_award_share_move_gpu_hours_positive")),
        sa.CheckConstraint("source <> target", name=op.f("ck_award_share_move_source_not_target")),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["award.id"],
            name=op.f("fk_award_share_move_award_id_award"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["app_user.id"],
            name=op.f("fk_award_share_move_actor_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_share_move")),
    )
    op.create_index(op.f("ix_award_share_move_award_id"), "award_share_move", ["award_id"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE award_line SET reserve_hours = gpu_hours"))
    clusters_of_type = bind.execute(
        sa.text(
            "SELECT DISTINCT a.name, p.cluster_id FROM centre_partition p"
            " JOIN accelerator_type a ON a.id = p.accelerator_id"
        )
    ).all()
    by_type: dict[str, set[uuid.UUID]] = {}
    for name, cluster_id in clusters_of_type:
        by_type.setdefault(name, set()).add(cluster_id)
    for accelerator_type, clusters in by_type.items():
        if len(clusters) != 1:
            continue  # several clusters of the type: the operator decides the split
        (cluster_id,) = clusters
        lines = bind.execute(
            sa.text("SELECT id, gpu_hours FROM award_line WHERE accelerator_type = :t"),
            {"t": accelerator_type},
        ).all()
        for line_id, gpu_hours in lines:
            bind.execute(
                sa.text(
                    "INSERT INTO award_share (id, award_line_id, cluster_id, gpu_hours)"
                    " VALUES (:id, :line, :cluster, :hours)"
                ).bindparams(sa.bindparam("id", type_=sa.Uuid())),
                {"id": uuid.uuid4(), "line": line_id, "cluster": cluster_id, "hours": gpu_hours},
            )
            bind.execute(
                sa.text("UPDATE award_line SET reserve_hours = 0 WHERE id = :line"),
                {"line": line_id},
            )


def downgrade() -> None:
    op.drop_table("award_share_move")
    op.drop_table("award_share")
    op.drop_table("award_place")
    with op.batch_alter_table("award_line", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_award_line_reserve_non_negative"), type_="check")
        batch_op.drop_column("reserve_hours")
