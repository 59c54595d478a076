"""the policy lab's saved studies (issue 14)

Revision ID: 0008_policy_lab
Revises: 0010_sites_inventory
Create Date: 2026-12-04 17:30:00

Expand-only: two new tables, nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import computeport.db.base

revision: str = "0008_policy_lab"
down_revision: str | Sequence[str] | None = "0010_sites_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = computeport.db.base.UtcDateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lab_study",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("window_from", _TS, nullable=False),
        sa.Column("window_to", _TS, nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["app_user.id"],
            name=op.f("fk_lab_study_requested_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_study")),
    )
    op.create_table(
        "lab_study_row",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("scenario", sa.String(400), nullable=False),
        sa.Column("grouping", sa.String(16), nullable=False),
        sa.Column("grp", sa.String(200), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("never_started", sa.Integer(), nullable=False),
        sa.Column("wait_mean_s", sa.Float(), nullable=False),
        sa.Column("wait_p50_s", sa.Float(), nullable=False),
        sa.Column("wait_p95_s", sa.Float(), nullable=False),
        sa.Column("slowdown_mean", sa.Float(), nullable=False),
        sa.Column("slowdown_p95", sa.Float(), nullable=False),
        sa.Column("utilisation", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["lab_study.id"],
            name=op.f("fk_lab_study_row_study_id_lab_study"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_study_row")),
    )
    op.create_index(op.f("ix_lab_study_row_study_id"), "lab_study_row", ["study_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lab_study_row_study_id"), table_name="lab_study_row")
    op.drop_table("lab_study_row")
    op.drop_table("lab_study")
