"""worker processes, duty leases with fencing tokens, and the duty run history (issue 11)

Revision ID: 0005_worker_leases
Revises: 0003
Create Date: 2026-12-04 15:20:00

Expand-only: three new tables, nothing existing changes, so an API process of the previous
version keeps answering while this runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_worker_leases"
down_revision: str | Sequence[str] | None = "0004_org_slurm_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "worker_process",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("heartbeat_at", _TS, nullable=False),
        sa.Column("stopped_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_process")),
    )
    op.create_table(
        "duty_lease",
        sa.Column("duty", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("last_run_at", _TS, nullable=True),
        sa.Column("last_ok_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("duty", name=op.f("pk_duty_lease")),
    )
    op.create_table(
        "worker_duty_run",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("duty", sa.String(64), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker_process.id"],
            name=op.f("fk_worker_duty_run_worker_id_worker_process"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_duty_run")),
    )
    op.create_index(op.f("ix_worker_duty_run_duty"), "worker_duty_run", ["duty"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_duty_run_duty"), table_name="worker_duty_run")
    op.drop_table("worker_duty_run")
    op.drop_table("duty_lease")
    op.drop_table("worker_process")
