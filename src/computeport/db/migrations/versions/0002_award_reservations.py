"""award reservations: reserved capacity booked for an award

Revision ID: 0002_award_reservations
Revises: 0001
Create Date: 2026-11-25 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import computeport.db.base

revision: str = "0002_award_reservations"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = computeport.db.base.UtcDateTime(timezone=True)
    op.create_table(
        "award_reservation",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("partition", sa.String(length=64), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("starts_at", utc, nullable=False),
        sa.Column("ends_at", utc, nullable=False),
        sa.Column("booked_ends_at", utc, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", utc, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_award_reservation_window_ordered")),
        sa.CheckConstraint("nodes > 0", name=op.f("ck_award_reservation_nodes_positive")),
        sa.CheckConstraint("gpus > 0", name=op.f("ck_award_reservation_gpus_positive")),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["award.id"],
            name=op.f("fk_award_reservation_award_id_award"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_award_reservation_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_reservation")),
        sa.UniqueConstraint("name", name=op.f("uq_award_reservation_name")),
    )
    with op.batch_alter_table("award_reservation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_award_reservation_award_id"), ["award_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("award_reservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_reservation_award_id"))
    op.drop_table("award_reservation")
