"""Usage reports in the manner of XDMoD: GPU-hours, jobs, wait and money grouped by one
dimension (organisation, category, sector, QOS, accelerator type, month) over a period range.

The figures come from metering's rating rows (``usage_charge``, amounts already signed, so plain
sums net out reversals) joined to their usage records for the QOS and the wait.  Jobs count as
Σ sign: a re-rated record counts once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlalchemy.orm import Session

from computeport.kit.errors import ValidationFailed
from computeport.models.identity import Organisation
from computeport.models.metering import UsageCharge, UsageRecord

DIMENSIONS: Final[dict[str, str]] = {
    "organisation": "Organisation",
    "category": "Category",
    "sector": "Sector",
    "qos": "QOS",
    "accelerator": "Accelerator",
    "month": "Month",
}
"""Group-by dimensions and their column titles."""


@dataclass(frozen=True)
class ReportRow:
    key: str
    jobs: int
    gpu_seconds: int
    list_minor: int
    subsidy_minor: int
    copay_minor: int
    mean_wait_seconds: int | None


def _dimension(name: str) -> Any:
    columns: dict[str, Any] = {
        "organisation": Organisation.name,
        "category": Organisation.category,
        "sector": Organisation.sector,
        "qos": UsageRecord.qos,
        "accelerator": UsageCharge.accelerator_type,
        "month": UsageCharge.period,
    }
    if name not in columns:
        raise ValidationFailed(f"by: one of {', '.join(DIMENSIONS)}; got {name!r}", field="by")
    return columns[name]


def _wait_seconds(dialect: str) -> ColumnElement[Any]:
    """start − submit in seconds, in the engine's own date arithmetic."""
    if dialect == "sqlite":
        return (
            func.julianday(UsageRecord.start_time) - func.julianday(UsageRecord.submit_time)
        ) * 86400
    return func.extract("epoch", UsageRecord.start_time - UsageRecord.submit_time)


def check_period(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        raise ValidationFailed(f"{field}: a month as YYYY-MM; got {value!r}", field=field)
    if not 1 <= int(value[5:]) <= 12:
        raise ValidationFailed(f"{field}: month out of range in {value!r}", field=field)
    return value


def usage_report(
    session: Session,
    by: str,
    *,
    since: str | None = None,
    until: str | None = None,
    organisation_id: Any = None,
) -> list[ReportRow]:
    """Rows grouped by ``by`` for periods in [since, until] (``YYYY-MM``, both inclusive)."""
    column = _dimension(by)
    since = check_period(since, "from")
    until = check_period(until, "to")
    dialect = session.get_bind().dialect.name
    wait = _wait_seconds(dialect)
    signed_wait = cast(wait, Float) * UsageCharge.sign
    stmt = (
        select(
            column,
            func.coalesce(func.sum(UsageCharge.sign), 0),
            func.coalesce(func.sum(UsageCharge.gpu_seconds), 0),
            func.coalesce(func.sum(UsageCharge.list_minor), 0),
            func.coalesce(func.sum(UsageCharge.subsidy_minor), 0),
            func.coalesce(func.sum(UsageCharge.copay_minor), 0),
            func.sum(signed_wait),
        )
        .join(UsageRecord, UsageRecord.id == UsageCharge.record_id)
        .join(Organisation, Organisation.id == UsageCharge.organisation_id)
        .group_by(column)
        .order_by(column)
    )
    if since:
        stmt = stmt.where(UsageCharge.period >= since)
    if until:
        stmt = stmt.where(UsageCharge.period <= until)
    if organisation_id is not None:
        stmt = stmt.where(UsageCharge.organisation_id == organisation_id)
    rows: list[ReportRow] = []
    for r in session.execute(stmt).all():
        jobs = int(r[1])
        total_wait = r[6]
        mean = round(float(total_wait) / jobs) if total_wait is not None and jobs > 0 else None
        key = r[0].value if hasattr(r[0], "value") else str(r[0])
        rows.append(ReportRow(key, jobs, int(r[2]), int(r[3]), int(r[4]), int(r[5]), mean))
    if by != "month":
        rows.sort(key=lambda row: -row.gpu_seconds)
    return rows


def report_csv(by: str, rows: Sequence[ReportRow]) -> str:
    """The report as CSV: raw integers (GPU-seconds, cents) so it re-imports exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            by,
            "jobs",
            "gpu_seconds",
            "gpu_hours",
            "list_hkd_cents",
            "subsidy_hkd_cents",
            "copay_hkd_cents",
            "mean_wait_seconds",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.key,
                row.jobs,
                row.gpu_seconds,
                f"{row.gpu_seconds / 3600:.2f}",
                row.list_minor,
                row.subsidy_minor,
                row.copay_minor,
                "" if row.mean_wait_seconds is None else row.mean_wait_seconds,
            ]
        )
    return out.getvalue()
