"""gateway demo: a deployment may follow its Slurm jobs (issue 13)

Revision ID: 0014_gateway_demo
Revises: 0011_award_shares
Create Date: 2026-12-04 21:35:00

Adds ``model_deployment.slurm_cluster``: set when ``computeport gateway launch`` runs the
deployment as a Slurm job on that cluster; its upstream list then follows the jobs (a running
job's reported endpoint is an upstream; an ended job's is removed).  Null for deployments whose
upstreams an operator lists by hand, which nothing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_gateway_demo"
down_revision: str | Sequence[str] | None = "0016_cluster_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slurm_cluster", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite >= 3.35), as in 0006: batch mode's rebuild of
    # ``model_deployment`` deletes every upstream by ON DELETE CASCADE (foreign keys are on).
    op.execute("ALTER TABLE model_deployment DROP COLUMN slurm_cluster")
