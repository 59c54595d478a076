"""Planning an award's progress reports and tranches when the committee decides.

Reports fall every ``every_months`` months after the start, strictly before the end, plus a
final report at the end.  Tranche 0 is released at award; tranche k (k ≥ 1) is gated by
report k, so an award with n tranches needs at least n − 1 reports before its end.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy.orm import Session

from computeport.kit.errors import ValidationFailed
from computeport.models.award import Award
from computeport.models.progress import AwardTranche, ProgressReport

FULL_BP = 10_000


def add_months(when: datetime, months: int) -> datetime:
    """The same day-of-month ``months`` later, clamped to the month's last day."""
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def report_due_dates(
    starts_at: datetime, ends_at: datetime, every_months: int | None
) -> list[datetime]:
    """Due dates of an award's reports: periodic ones before the end, then a final one."""
    dates: list[datetime] = []
    if every_months is not None:
        k = 1
        while (due := add_months(starts_at, every_months * k)) < ends_at:
            dates.append(due)
            k += 1
    dates.append(ends_at)
    return dates


def validate_shares(shares_bp: list[int], periodic_reports: int) -> None:
    """Shares are positive, sum to 10,000 bp, and later tranches have reports to gate them."""
    if any(s <= 0 for s in shares_bp) or sum(shares_bp) != FULL_BP:
        raise ValidationFailed(
            f"tranche shares must be positive basis points summing to {FULL_BP}, "
            f"got {shares_bp} (sum {sum(shares_bp)})",
            field="tranche_shares_bp",
        )
    if len(shares_bp) - 1 > periodic_reports:
        raise ValidationFailed(
            f"{len(shares_bp)} tranches need {len(shares_bp) - 1} progress reports before the "
            f"award ends, but the schedule has {periodic_reports}: shorten the reporting "
            "interval or use fewer tranches",
            field="tranche_shares_bp",
        )


def plan(
    session: Session,
    award: Award,
    shares_bp: list[int],
    every_months: int | None,
) -> tuple[list[ProgressReport], list[AwardTranche]]:
    """Create the award's reports and tranches (tranche 0 released now)."""
    dates = report_due_dates(award.starts_at, award.ends_at, every_months)
    validate_shares(shares_bp, len(dates) - 1)
    reports = [
        ProgressReport(award_id=award.id, sequence=i, due_at=due, created_at=award.created_at)
        for i, due in enumerate(dates, start=1)
    ]
    session.add_all(reports)
    session.flush()
    tranches = [
        AwardTranche(
            award_id=award.id,
            sequence=k,
            share_bp=share,
            gating_report_id=None if k == 0 else reports[k - 1].id,
            released_at=award.created_at if k == 0 else None,
        )
        for k, share in enumerate(shares_bp)
    ]
    session.add_all(tranches)
    session.flush()
    return reports, tranches


__all__ = ["FULL_BP", "add_months", "plan", "report_due_dates", "validate_shares"]
