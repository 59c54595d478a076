"""Keep the report rollups (``usage_rollup``, ``utilisation_rollup``, ``wait_rollup``) equal to
the sums of the rating rows, incrementally.

How: a ``billing_cursor`` row (:data:`ROLLUP_CURSOR`) holds the last ``usage_charge.id``
folded in.  :func:`refresh_usage_rollups` aggregates the rows above it with one set-based
``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` per rollup (adding the new sums to the
stored ones) and advances the cursor, in the caller's transaction.  The poster calls it at the
end of every batch, so rollups commit with the charges they summarise.  Charge ids are written
by the serialised poster (under the billing lock), so they become visible in id order and a
cursor never skips a row.

Why the rating rows and not the usage records: a record's current rating is the sum of its
signed rows, so Σ over the rows is exact under reversals (late records re-rated, corrections).
For utilisation that is also what makes a correction count once: when a newer record for the
same key is rated, the old one's rating is reversed, and its −1 row takes its GPU-seconds back
out of every bucket it had added them to.  Records not yet rated are not in the rollups.

:func:`rebuild_usage_rollups` empties the tables and folds in every row from the start (for a
database that had charges before the rollups existed, and as a repair).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from computeport.metering.cluster_rollups import (
    empty_cluster_rollups,
    fold_cluster_charges,
    start_day_and_wait_sql,
)
from computeport.metering.cluster_rollups import epoch_sql as _epoch
from computeport.models.rollup import BUCKET_SECONDS

ROLLUP_CURSOR = "usage_rollup"
"""The ``billing_cursor`` row: the last ``usage_charge.id`` folded into the rollups."""

_NIL_UUID = {
    "sqlite": "'" + "0" * 32 + "'",
    "postgresql": "'" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "'::uuid",
}


@dataclass(frozen=True)
class RollupReport:
    """What one refresh folded in: charge ids in (``after``, ``through``]."""

    after: int
    through: int

    @property
    def advanced(self) -> bool:
        return self.through > self.after


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
    """At most three rows per rated row, however long the job (see ``UtilisationRollup``).

    With ``fb`` and ``lb`` its first and last buckets: the part of [start, end) in ``fb``
    (all of it when ``fb = lb``), the part in ``lb``, and +GPUs from ``fb + B`` / −GPUs from
    ``lb`` in the fully covered count.  A zero-length job still yields its start bucket (for
    ``first_start``), adding nothing.
    """
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
    day, wait = start_day_and_wait_sql(dialect)
    return (
        "INSERT INTO wait_rollup (day_start, wait_seconds, jobs) "  # noqa: S608 - constants only
        f"SELECT {day}, {wait}, SUM(c.sign) "
        "FROM usage_charge c JOIN usage_record r ON r.id = c.record_id "
        "WHERE c.id > :after AND c.id <= :through AND r.start_time IS NOT NULL "
        f"GROUP BY {day}, {wait} "
        "ON CONFLICT (day_start, wait_seconds) DO UPDATE SET "
        "jobs = wait_rollup.jobs + excluded.jobs"
    )


def _cursor(connection: Connection) -> int:
    """The rollup cursor, created at 0 and locked (PostgreSQL) for this transaction."""
    connection.execute(
        text(
            "INSERT INTO billing_cursor (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": ROLLUP_CURSOR},
    )
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""
    position = connection.execute(
        text(f"SELECT position FROM billing_cursor WHERE name = :name{lock}"),  # noqa: S608
        {"name": ROLLUP_CURSOR},
    ).scalar_one()
    return int(position)


def fold_charges(connection: Connection) -> RollupReport:
    """Fold every rating row above the cursor into the rollups and advance the cursor."""
    fold_cluster_charges(connection)  # its own cursor: see metering.cluster_rollups
    after = _cursor(connection)
    through = connection.execute(text("SELECT MAX(id) FROM usage_charge")).scalar()
    if through is None or int(through) <= after:
        return RollupReport(after, after)
    through = int(through)
    dialect = connection.dialect.name
    bounds = {"after": after, "through": through}
    connection.execute(text(_usage_sql(dialect)), bounds)
    connection.execute(text(_utilisation_sql(dialect)), bounds)
    connection.execute(text(_wait_sql(dialect)), bounds)
    connection.execute(
        text("UPDATE billing_cursor SET position = :through WHERE name = :name"),
        {"through": through, "name": ROLLUP_CURSOR},
    )
    return RollupReport(after, through)


def rebuild_connection(connection: Connection) -> RollupReport:
    """Empty the rollups and fold in every rating row (used by the migration too)."""
    _cursor(connection)
    connection.execute(text("DELETE FROM usage_rollup"))
    connection.execute(text("DELETE FROM utilisation_rollup"))
    connection.execute(text("DELETE FROM wait_rollup"))
    empty_cluster_rollups(connection)
    connection.execute(
        text("UPDATE billing_cursor SET position = 0 WHERE name = :name"), {"name": ROLLUP_CURSOR}
    )
    return fold_charges(connection)


def refresh_usage_rollups(session: Session) -> RollupReport:
    """Fold the rating rows written since the last refresh into the rollups.  Never commits."""
    return fold_charges(session.connection())


def rebuild_usage_rollups(session: Session) -> RollupReport:
    """Recompute the rollups from every rating row.  Never commits.

    Takes the billing lock first, so no batch is posted while the tables are rebuilt.
    """
    from computeport.metering.cursor import lock_billing

    lock_billing(session)
    return rebuild_connection(session.connection())


__all__ = [
    "ROLLUP_CURSOR",
    "RollupReport",
    "fold_charges",
    "rebuild_connection",
    "rebuild_usage_rollups",
    "refresh_usage_rollups",
]
