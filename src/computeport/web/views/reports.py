"""Usage reports in the manner of XDMoD: GPU-hours, jobs, wait and money grouped by one
dimension (organisation, category, sector, QOS, accelerator type, month) over a period range.

The figures come from ``usage_rollup``: the rating rows (``usage_charge``, amounts signed, so plain
sums net out reversals) already summed per (period, organisation, award, QOS, accelerator type)
as usage is posted, so a report reads thousands of rows however many jobs there were.  Jobs
count as Σ sign: a re-rated record counts once.  Organisation, category and sector are joined at
read time (an organisation's category may change; its history follows it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.kit.errors import ValidationFailed
from computeport.metering.repository import rollups_of
from computeport.models.identity import Organisation
from computeport.models.rollup import UsageRollup
from computeport.web.views.site_reports import SITE_DIMENSIONS, site_report_sums

DIMENSIONS: Final[dict[str, str]] = {
    "organisation": "Organisation",
    "category": "Category",
    "sector": "Sector",
    "qos": "QOS",
    "accelerator": "Accelerator",
    "month": "Month",
    **SITE_DIMENSIONS,
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
        "qos": UsageRollup.qos,
        "accelerator": UsageRollup.accelerator_type,
        "month": UsageRollup.period,
    }
    if name not in columns:
        raise ValidationFailed(f"by: one of {', '.join(DIMENSIONS)}; got {name!r}", field="by")
    return columns[name]


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
    since = check_period(since, "from")
    until = check_period(until, "to")
    if by in SITE_DIMENSIONS:
        sums = site_report_sums(
            session, by, since=since, until=until, organisation_id=organisation_id
        )
        return _sorted(by, [_row(key, *values) for key, values in sorted(sums.items())])
    column = _dimension(by)
    stmt = (
        select(
            column,
            func.coalesce(func.sum(UsageRollup.jobs), 0),
            func.coalesce(func.sum(UsageRollup.gpu_seconds), 0),
            func.coalesce(func.sum(UsageRollup.list_minor), 0),
            func.coalesce(func.sum(UsageRollup.subsidy_minor), 0),
            func.coalesce(func.sum(UsageRollup.copay_minor), 0),
            func.coalesce(func.sum(UsageRollup.wait_seconds), 0),
            func.coalesce(func.sum(UsageRollup.started_rows), 0),
        )
        .join(Organisation, Organisation.id == UsageRollup.organisation_id)
        .group_by(column)
        .order_by(column)
    )
    if since:
        stmt = stmt.where(UsageRollup.period >= since)
    if until:
        stmt = stmt.where(UsageRollup.period <= until)
    if organisation_id is not None:
        stmt = stmt.where(rollups_of(organisation_id))
    rows: list[ReportRow] = []
    for r in session.execute(stmt).all():
        key = r[0].value if hasattr(r[0], "value") else str(r[0])
        rows.append(_row(key, *(int(v) for v in r[1:])))
    return _sorted(by, rows)


def _row(
    key: str,
    jobs: int,
    gpu_seconds: int,
    list_minor: int,
    subsidy_minor: int,
    copay_minor: int,
    total_wait: int,
    started: int,
) -> ReportRow:
    # No wait to report when none of the group's rows had started (as over the raw rows).
    mean = round(total_wait / jobs) if started > 0 and jobs > 0 else None
    return ReportRow(key, jobs, gpu_seconds, list_minor, subsidy_minor, copay_minor, mean)


def _sorted(by: str, rows: list[ReportRow]) -> list[ReportRow]:
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
