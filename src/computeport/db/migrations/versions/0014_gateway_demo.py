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
    # A plain ADD COLUMN (nullable), not a batch copy: on SQLite a batch rebuilds the table, and
    # dropping the old ``model_deployment`` deletes its upstreams through their ON DELETE CASCADE.
    op.add_column("model_deployment", sa.Column("slurm_cluster", sa.String(length=64)))


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite >= 3.35), for the same reason: a batch rebuild
    # would cascade-delete every upstream of every deployment.
    op.drop_column("model_deployment", "slurm_cluster")
