"""billing adjustments: an operator's manual adjustments and the documents that billed them

Revision ID: 0002_billing_adjustments
Revises: 0001
Create Date: 2026-11-25 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import computeport.db.base
from computeport.db.guards import append_only_triggers

revision: str = "0002_billing_adjustments"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Money tables, append-only like the ledger (the trigger function on PostgreSQL is 0001's).
APPEND_ONLY = ("adjustment", "adjustment_billing")


def upgrade() -> None:
    utc = computeport.db.base.UtcDateTime(timezone=True)
    op.create_table(
        "adjustment",
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column(
            "target",
            sa.Enum("receivable", "subsidy", name="adjustmenttarget", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("billing_period", sa.String(length=7), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("journal_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_adjustment_amount_non_zero")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_adjustment_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_adjustment_award_id_award")
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journal.id"], name=op.f("fk_adjustment_journal_id_journal")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_adjustment_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_adjustment_idempotency_key")),
    )
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjustment_award_id"), ["award_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_adjustment_billing_period"), ["billing_period"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_adjustment_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "adjustment_billing",
        sa.Column("adjustment_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["adjustment.id"],
            name=op.f("fk_adjustment_billing_adjustment_id_adjustment"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_document.id"],
            name=op.f("fk_adjustment_billing_document_id_billing_document"),
        ),
        sa.PrimaryKeyConstraint("adjustment_id", name=op.f("pk_adjustment_billing")),
    )
    with op.batch_alter_table("adjustment_billing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustment_billing_document_id"), ["document_id"], unique=False
        )
    for statement in append_only_triggers(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("adjustment_billing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustment_billing_document_id"))
    op.drop_table("adjustment_billing")
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustment_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_adjustment_billing_period"))
        batch_op.drop_index(batch_op.f("ix_adjustment_award_id"))
    op.drop_table("adjustment")
