"""data policy: per-organisation redaction and allowed sites, upstreams tagged with their site,
redactions counted on token usage (issue 21, "departments' data protected")

Revision ID: 0015_data_policy
Revises: 0011_award_shares
Create Date: 2026-12-04 21:10:00

Expand-only: one new table and two nullable or defaulted columns, so an API process of the
previous version keeps working (it writes no ``redactions``: the default 0 holds, and it reads
no site, so it serves as before: unrestricted).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_data_policy"
down_revision: str | Sequence[str] | None = "0011_award_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("redact", sa.Boolean(), nullable=False),
        sa.Column("allowed_sites", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_data_policy_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_policy")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_data_policy_organisation_id")),
    )
    with op.batch_alter_table("model_upstream") as batch:
        batch.add_column(sa.Column("site_key", sa.String(length=40), nullable=True))
    with op.batch_alter_table("token_usage") as batch:
        batch.add_column(sa.Column("redactions", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("token_usage") as batch:
        batch.drop_column("redactions")
    with op.batch_alter_table("model_upstream") as batch:
        batch.drop_column("site_key")
    op.drop_table("data_policy")
