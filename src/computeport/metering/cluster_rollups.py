"""Keep the per-cluster rollups (``cluster_usage_rollup``, ``cluster_wait_rollup``) equal to the
sums of the rating rows, incrementally, beside the centre-wide ones (:mod:`.rollups`).

Same method as those: one set-based ``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` per
table over the ``usage_charge`` rows above a cursor, in the poster's transaction.  Their own
cursor (:data:`CLUSTER_ROLLUP_CURSOR`), not the centre-wide one: the tables came later (issue
12), and a worker of the previous version, still running while the schema is upgraded, keeps
advancing the old cursor without writing these; with a cursor of their own, the first fold of
the new version catches up on whatever that worker posted, and nothing is counted twice.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from computeport.models.rollup import DAY_OFFSET_SECONDS

CLUSTER_ROLLUP_CURSOR = "cluster_rollup"
"""The ``billing_cursor`` row: the last ``usage_charge.id`` folded into the cluster rollups."""


def epoch_sql(dialect: str, column: str) -> str:
    """Whole epoch seconds of a timestamp column (Slurm times are whole seconds)."""
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def start_day_and_wait_sql(dialect: str) -> tuple[str, str]:
    """A rated job's Hong Kong day of start (epoch seconds of its midnight) and its wait in
    seconds (never negative): the keys of both wait histograms, the centre's and the clusters'."""
    start, submit = epoch_sql(dialect, "r.start_time"), epoch_sql(dialect, "r.submit_time")
    day = f"(({start} + {DAY_OFFSET_SECONDS}) / 86400 * 86400 - {DAY_OFFSET_SECONDS})"
    wait = f"(CASE WHEN {start} > {submit} THEN {start} - {submit} ELSE 0 END)"
    return day, wait


def cluster_usage_sql(dialect: str) -> str:
    start, submit = epoch_sql(dialect, "r.start_time"), epoch_sql(dialect, "r.submit_time")
    sums = ("jobs", "gpu_seconds", "list_minor", "subsidy_minor", "copay_minor", "wait_seconds")
    updates = ", ".join(
        f"{c} = cluster_usage_rollup.{c} + excluded.{c}" for c in (*sums, "started_rows")
    )
    return (
        "INSERT INTO cluster_usage_rollup (period, organisation_id, cluster, accelerator_type, "  # noqa: S608 - constant fragments only
        "jobs, gpu_seconds, list_minor, subsidy_minor, copay_minor, wait_seconds, started_rows) "
        "SELECT c.period, c.organisation_id, r.cluster, c.accelerator_type, SUM(c.sign), "
        "SUM(c.gpu_seconds), SUM(c.list_minor), SUM(c.subsidy_minor), SUM(c.copay_minor), "
        f"COALESCE(SUM(c.sign * ({start} - {submit})), 0), "
        "SUM(CASE WHEN r.start_time IS NULL THEN 0 ELSE 1 END) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through "
        "GROUP BY c.period, c.organisation_id, r.cluster, c.accelerator_type "
        "ON CONFLICT (period, organisation_id, cluster, accelerator_type) "
        f"DO UPDATE SET {updates}"
    )


def cluster_wait_sql(dialect: str) -> str:
    """Rated jobs per (Hong Kong day of start, cluster, type, wait seconds), with their use."""
    day, wait = start_day_and_wait_sql(dialect)
    return (
        "INSERT INTO cluster_wait_rollup (day_start, cluster, accelerator_type, wait_seconds, "  # noqa: S608 - constants only
        f"jobs, gpu_seconds) SELECT {day}, r.cluster, c.accelerator_type, {wait}, SUM(c.sign), "
        "SUM(c.gpu_seconds) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through AND r.start_time IS NOT NULL "
        f"GROUP BY {day}, r.cluster, c.accelerator_type, {wait} "
        "ON CONFLICT (day_start, cluster, accelerator_type, wait_seconds) DO UPDATE SET "
        "jobs = cluster_wait_rollup.jobs + excluded.jobs, "
        "gpu_seconds = cluster_wait_rollup.gpu_seconds + excluded.gpu_seconds"
    )


def _cursor(connection: Connection) -> int:
    connection.execute(
        text(
            "INSERT INTO billing_cursor (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": CLUSTER_ROLLUP_CURSOR},
    )
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""
    position = connection.execute(
        text(f"SELECT position FROM billing_cursor WHERE name = :name{lock}"),  # noqa: S608
        {"name": CLUSTER_ROLLUP_CURSOR},
    ).scalar_one()
    return int(position)


def fold_cluster_charges(connection: Connection) -> None:
    """Fold every rating row above this cursor into the cluster rollups; advance it."""
    after = _cursor(connection)
    through = connection.execute(text("SELECT MAX(id) FROM usage_charge")).scalar()
    if through is None or int(through) <= after:
        return
    dialect = connection.dialect.name
    bounds = {"after": after, "through": int(through)}
    connection.execute(text(cluster_usage_sql(dialect)), bounds)
    connection.execute(text(cluster_wait_sql(dialect)), bounds)
    connection.execute(
        text("UPDATE billing_cursor SET position = :through WHERE name = :name"),
        {"through": int(through), "name": CLUSTER_ROLLUP_CURSOR},
    )


def empty_cluster_rollups(connection: Connection) -> None:
    """Empty the tables and put the cursor back to the start (a rebuild folds again)."""
    _cursor(connection)
    connection.execute(text("DELETE FROM cluster_usage_rollup"))
    connection.execute(text("DELETE FROM cluster_wait_rollup"))
    connection.execute(
        text("UPDATE billing_cursor SET position = 0 WHERE name = :name"),
        {"name": CLUSTER_ROLLUP_CURSOR},
    )


__all__ = [
    "CLUSTER_ROLLUP_CURSOR",
    "cluster_usage_sql",
    "cluster_wait_sql",
    "empty_cluster_rollups",
    "epoch_sql",
    "fold_cluster_charges",
    "start_day_and_wait_sql",
]
