"""per-cluster usage and wait rollups: reports, the operations page and the funder report per
site and accelerator type (issue 12)

Revision ID: 0017_site_views
Revises: 0011_award_shares
Create Date: 2026-12-04 21:00:00

Also ``document_line.site`` (nullable): an invoice line per site and accelerator type.

Expand only: two new tables (``cluster_usage_rollup``, ``cluster_wait_rollup``) with a cursor
of their own, filled here from the rating rows already there, so an existing database reports
per site the moment it is migrated. The previous version, still running during the upgrade,
neither reads nor writes them; the new version folds whatever it posted from the cursor on.

Frozen: the SQL that fills them is a copy of ``computeport.metering.cluster_rollups`` as it was
when this revision was written (Hong Kong's +8 h day offset written out). A migration imports
nothing of computeport beyond ``computeport.db``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

revision: str = "0017_site_views"
down_revision: str | Sequence[str] | None = "0014_gateway_demo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURSOR = "cluster_rollup"
DAY_OFFSET_SECONDS = 8 * 3600


def _epoch(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _usage_sql(dialect: str) -> str:
    start, submit = _epoch(dialect, "r.start_time"), _epoch(dialect, "r.submit_time")
    return (
        "INSERT INTO cluster_usage_rollup (period, organisation_id, cluster, accelerator_type, "  # noqa: S608 - constants only
        "jobs, gpu_seconds, list_minor, subsidy_minor, copay_minor, wait_seconds, started_rows) "
        "SELECT c.period, c.organisation_id, r.cluster, c.accelerator_type, SUM(c.sign), "
        "SUM(c.gpu_seconds), SUM(c.list_minor), SUM(c.subsidy_minor), SUM(c.copay_minor), "
        f"COALESCE(SUM(c.sign * ({start} - {submit})), 0), "
        "SUM(CASE WHEN r.start_time IS NULL THEN 0 ELSE 1 END) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id <= :through "
        "GROUP BY c.period, c.organisation_id, r.cluster, c.accelerator_type"
    )


def _wait_sql(dialect: str) -> str:
    start, submit = _epoch(dialect, "r.start_time"), _epoch(dialect, "r.submit_time")
    day = f"(({start} + {DAY_OFFSET_SECONDS}) / 86400 * 86400 - {DAY_OFFSET_SECONDS})"
    wait = f"(CASE WHEN {start} > {submit} THEN {start} - {submit} ELSE 0 END)"
    return (
        "INSERT INTO cluster_wait_rollup (day_start, cluster, accelerator_type, wait_seconds, "  # noqa: S608 - constants only
        f"jobs, gpu_seconds) SELECT {day}, r.cluster, c.accelerator_type, {wait}, SUM(c.sign), "
        "SUM(c.gpu_seconds) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id <= :through AND r.start_time IS NOT NULL "
        f"GROUP BY {day}, r.cluster, c.accelerator_type, {wait}"
    )


def _fill(connection: Connection) -> None:
    through = connection.execute(text("SELECT MAX(id) FROM usage_charge")).scalar()
    position = 0 if through is None else int(through)
    if position > 0:
        dialect = connection.dialect.name
        connection.execute(text(_usage_sql(dialect)), {"through": position})
        connection.execute(text(_wait_sql(dialect)), {"through": position})
    connection.execute(
        text("INSERT INTO billing_cursor (name, position) VALUES (:name, :position)"),
        {"name": CURSOR, "position": position},
    )


def upgrade() -> None:
    op.create_table(
        "cluster_usage_rollup",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.Column("gpu_seconds", sa.BigInteger(), nullable=False),
        sa.Column("list_minor", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_minor", sa.BigInteger(), nullable=False),
        sa.Column("copay_minor", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("started_rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period",
            "organisation_id",
            "cluster",
            "accelerator_type",
            name=op.f("pk_cluster_usage_rollup"),
        ),
    )
    op.create_table(
        "cluster_wait_rollup",
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.Column("gpu_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day_start",
            "cluster",
            "accelerator_type",
            "wait_seconds",
            name=op.f("pk_cluster_wait_rollup"),
        ),
    )
    _fill(op.get_bind())
    # A plain ADD COLUMN (nullable), not a batch copy: on SQLite a batch would rebuild the table
    # without the append-only triggers that guard it.
    op.add_column("document_line", sa.Column("site", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite ≥ 3.35): a batch rebuild would lose the
    # append-only triggers.
    op.execute("ALTER TABLE document_line DROP COLUMN site")
    op.execute(sa.text("DELETE FROM billing_cursor WHERE name = :name").bindparams(name=CURSOR))
    op.drop_table("cluster_wait_rollup")
    op.drop_table("cluster_usage_rollup")
