"""gateway budgets: monthly money budgets per key, application and department (issue 21)

Revision ID: 0013_gateway_budgets
Revises: 0011_award_shares
Create Date: 2026-12-04 21:00:00

Expand-only: one new table, so an API process of the previous version keeps working (it
simply enforces no money budgets until it is replaced).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_gateway_budgets"
down_revision: str | Sequence[str] | None = "0015_data_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gateway_budget",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "key",
                "application",
                "department",
                name="budgetscope",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("monthly_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", _TS, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "monthly_minor >= 0", name=op.f("ck_gateway_budget_monthly_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_gateway_budget_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_budget")),
        sa.UniqueConstraint(
            "organisation_id",
            "scope",
            "subject",
            name=op.f("uq_gateway_budget_organisation_id_scope_subject"),
        ),
    )
    op.create_index(
        op.f("ix_gateway_budget_organisation_id"),
        "gateway_budget",
        ["organisation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_budget_organisation_id"), table_name="gateway_budget")
    op.drop_table("gateway_budget")
