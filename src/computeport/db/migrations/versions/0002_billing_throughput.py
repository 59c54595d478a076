"""usage_charge.record_id without a foreign key (issue 5: a million ratings in seconds)

Revision ID: 0002_billing_throughput
Revises: 0001
Create Date: 2026-11-25 14:10:00

Why: on PostgreSQL the foreign key checked every rating row on its own (a trigger per row
that looks the record up and share-locks it, rewriting the usage_record page it sits on):
about two thirds of the cost of writing a million rating rows.  What it guarded cannot
happen: rating rows are written only by the poster, for record ids it has just read in the
same transaction under the billing lock, and usage_record is append-only (a trigger refuses
UPDATE and DELETE on both engines), so a referenced record can never go away.

SQLite rebuilds the table to drop a constraint, and a rebuilt table loses its triggers: the
append-only triggers are created again here.
"""

from collections.abc import Sequence

from alembic import op

from computeport.db.guards import append_only_triggers

revision: str = "0002_billing_throughput"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_usage_charge_record_id_usage_record"


def _sqlite_guards() -> None:
    """SQLite's table rebuild drops the table's triggers: put the append-only guard back."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS usage_charge_no_{operation}")
    for statement in append_only_triggers("sqlite", ["usage_charge"]):
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("usage_charge", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
    _sqlite_guards()


def downgrade() -> None:
    with op.batch_alter_table("usage_charge", schema=None) as batch_op:
        batch_op.create_foreign_key(FK, "usage_record", ["record_id"], ["id"])
    _sqlite_guards()
