"""usage, utilisation and wait rollups (issue 6: reports over 10M records)

Revision ID: 0002_usage_rollups
Revises: 0001
Create Date: 2026-11-25 13:40:00

The upgrade also fills both rollups from the rating rows already there, so an existing
database reports the same figures the moment it is migrated.

Frozen: the SQL that fills them is a copy of ``computeport.metering.rollups`` as it was when
this revision was written (``rebuild_connection``, with the bucket of 1800 s and Hong Kong's
+8 h day offset written out), so a later change to that module cannot change what this
revision does.  A migration imports nothing of computeport beyond ``computeport.db``
(pyproject's import-linter contract).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

revision: str = "0002_usage_rollups"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUP_CURSOR = "usage_rollup"
"""The ``billing_cursor`` row: the last ``usage_charge.id`` folded into the rollups."""
BUCKET_SECONDS = 1800
"""``utilisation_rollup``'s bucket (``models.rollup.BUCKET_SECONDS`` at this revision)."""
DAY_OFFSET_SECONDS = 8 * 3600
"""``wait_rollup``'s days are Hong Kong days (``models.rollup.DAY_OFFSET_SECONDS``)."""

_NIL_UUID = {
    "sqlite": "'" + "0" * 32 + "'",
    "postgresql": "'" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "'::uuid",
}


def _epoch(dialect: str, column: str) -> str:
    """Whole epoch seconds of a timestamp column (Slurm times are whole seconds)."""
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _usage_sql(dialect: str) -> str:
    start, submit = _epoch(dialect, "r.start_time"), _epoch(dialect, "r.submit_time")
    sums = ("jobs", "gpu_seconds", "list_minor", "subsidy_minor", "copay_minor", "credited_minor")
    updates = ", ".join(
        f"{c} = usage_rollup.{c} + excluded.{c}" for c in (*sums, "wait_seconds", "started_rows")
    )
    return (
        "INSERT INTO usage_rollup (period, organisation_id, award_id, qos, accelerator_type, "  # noqa: S608 - constant fragments only
        "jobs, gpu_seconds, list_minor, subsidy_minor, copay_minor, credited_minor, "
        "wait_seconds, started_rows) "
        f"SELECT c.period, c.organisation_id, COALESCE(c.award_id, {_NIL_UUID[dialect]}), "
        "r.qos, c.accelerator_type, SUM(c.sign), SUM(c.gpu_seconds), SUM(c.list_minor), "
        "SUM(c.subsidy_minor), SUM(c.copay_minor), SUM(c.credited_minor), "
        f"COALESCE(SUM(c.sign * ({start} - {submit})), 0), "
        "SUM(CASE WHEN r.start_time IS NULL THEN 0 ELSE 1 END) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through "
        "GROUP BY c.period, c.organisation_id, COALESCE(c.award_id, "
        f"{_NIL_UUID[dialect]}), r.qos, c.accelerator_type "
        "ON CONFLICT (period, organisation_id, award_id, qos, accelerator_type) "
        f"DO UPDATE SET {updates}"
    )


_UTILISATION_UPSERT = (
    "ON CONFLICT (bucket_start, partition, accelerator_type) DO UPDATE SET "
    "partial_gpu_seconds = utilisation_rollup.partial_gpu_seconds + excluded.partial_gpu_seconds, "
    "full_gpus_delta = utilisation_rollup.full_gpus_delta + excluded.full_gpus_delta, "
    "first_start = CASE WHEN utilisation_rollup.first_start IS NULL THEN excluded.first_start "
    "WHEN excluded.first_start IS NULL THEN utilisation_rollup.first_start "
    "WHEN excluded.first_start < utilisation_rollup.first_start THEN excluded.first_start "
    "ELSE utilisation_rollup.first_start END"
)


def _utilisation_sql(dialect: str) -> str:
    """At most three rows per rated row: the part of [start, end) in its first bucket, the part
    in its last, and +GPUs / -GPUs in the fully covered count between them."""
    b = BUCKET_SECONDS
    start, end = _epoch(dialect, "r.start_time"), _epoch(dialect, "r.end_time")
    return (
        "WITH j AS ("  # noqa: S608 - constant fragments only
        f"SELECT c.sign * r.gpus AS g, r.partition AS part, r.accelerator_type AS acc, "
        f"{start} AS s, {end} AS e, {start} / {b} * {b} AS fb, "
        f"(CASE WHEN {end} - 1 > {start} THEN {end} - 1 ELSE {start} END) / {b} * {b} AS lb "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through AND r.start_time IS NOT NULL), "
        "x AS ("
        f"SELECT fb AS bucket, part, acc, g * (CASE WHEN lb = fb THEN e - s ELSE fb + {b} - s END) "
        "AS partial, 0 AS delta, s AS first FROM j "
        "UNION ALL SELECT lb, part, acc, g * (e - lb), -g, NULL FROM j WHERE lb > fb "
        f"UNION ALL SELECT fb + {b}, part, acc, 0, g, NULL FROM j WHERE lb > fb) "
        "INSERT INTO utilisation_rollup (bucket_start, partition, accelerator_type, "
        "partial_gpu_seconds, full_gpus_delta, first_start) "
        "SELECT bucket, part, acc, SUM(partial), SUM(delta), MIN(first) FROM x WHERE true "
        f"GROUP BY bucket, part, acc {_UTILISATION_UPSERT}"
    )


def _wait_sql(dialect: str) -> str:
    """Rated jobs per (Hong Kong day of start, wait seconds): a histogram for percentiles."""
    start, submit = _epoch(dialect, "r.start_time"), _epoch(dialect, "r.submit_time")
    day = f"(({start} + {DAY_OFFSET_SECONDS}) / 86400 * 86400 - {DAY_OFFSET_SECONDS})"
    wait = f"(CASE WHEN {start} > {submit} THEN {start} - {submit} ELSE 0 END)"
    return (
        "INSERT INTO wait_rollup (day_start, wait_seconds, jobs) "  # noqa: S608 - constants only
        f"SELECT {day}, {wait}, SUM(c.sign) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through AND r.start_time IS NOT NULL "
        f"GROUP BY {day}, {wait} "
        "ON CONFLICT (day_start, wait_seconds) DO UPDATE SET "
        "jobs = wait_rollup.jobs + excluded.jobs"
    )


def _fill_rollups(connection: Connection) -> None:
    """Create the cursor at 0 and fold every rating row already there into the new tables."""
    connection.execute(
        text(
            "INSERT INTO billing_cursor (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": ROLLUP_CURSOR},
    )
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""
    connection.execute(
        text(f"SELECT position FROM billing_cursor WHERE name = :name{lock}"),  # noqa: S608
        {"name": ROLLUP_CURSOR},
    )
    connection.execute(
        text("UPDATE billing_cursor SET position = 0 WHERE name = :name"), {"name": ROLLUP_CURSOR}
    )
    through = connection.execute(text("SELECT MAX(id) FROM usage_charge")).scalar()
    if through is None or int(through) <= 0:
        return
    dialect = connection.dialect.name
    bounds = {"after": 0, "through": int(through)}
    connection.execute(text(_usage_sql(dialect)), bounds)
    connection.execute(text(_utilisation_sql(dialect)), bounds)
    connection.execute(text(_wait_sql(dialect)), bounds)
    connection.execute(
        text("UPDATE billing_cursor SET position = :through WHERE name = :name"),
        {"through": int(through), "name": ROLLUP_CURSOR},
    )


def upgrade() -> None:
    op.create_table(
        "usage_rollup",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("qos", sa.String(length=32), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.Column("gpu_seconds", sa.BigInteger(), nullable=False),
        sa.Column("list_minor", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_minor", sa.BigInteger(), nullable=False),
        sa.Column("copay_minor", sa.BigInteger(), nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("started_rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period",
            "organisation_id",
            "award_id",
            "qos",
            "accelerator_type",
            name=op.f("pk_usage_rollup"),
        ),
    )
    op.create_table(
        "utilisation_rollup",
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.Column("partition", sa.String(length=64), nullable=False),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("partial_gpu_seconds", sa.BigInteger(), nullable=False),
        sa.Column("full_gpus_delta", sa.BigInteger(), nullable=False),
        sa.Column("first_start", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "bucket_start", "partition", "accelerator_type", name=op.f("pk_utilisation_rollup")
        ),
    )
    op.create_table(
        "wait_rollup",
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day_start", "wait_seconds", name=op.f("pk_wait_rollup")),
    )
    _fill_rollups(op.get_bind())


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM billing_cursor WHERE name = :name").bindparams(name=ROLLUP_CURSOR)
    )
    op.drop_table("wait_rollup")
    op.drop_table("utilisation_rollup")
    op.drop_table("usage_rollup")
