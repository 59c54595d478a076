"""The funder's yearly report: utilisation, subsidy paid, projects by category, GPU-hours by
sector, applications received and decided — one calendar year (UTC months), as a page and a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.envelope.service import EnvelopeFigures, envelope_figures, get_scheme
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.rollup import BUCKET_SECONDS, UtilisationRollup
from computeport.models.scheme import Scheme
from computeport.web.views.reports import ReportRow, usage_report
from computeport.web.views.scheme import applications_funnel
from computeport.web.views.site_reports import installed_by_site_type
from computeport.web.views.usage import MonthMoney, money_by_month


@dataclass(frozen=True)
class CategoryProjects:
    category: str
    projects: int
    committed_minor: int


@dataclass(frozen=True)
class SiteLine:
    """One site and accelerator type in the year: its usage and its installed GPUs."""

    usage: ReportRow
    installed_gpus: int | None
    year_seconds: int

    @property
    def utilisation(self) -> Decimal | None:
        """Charged GPU-seconds over the type's installed GPU-seconds at the site."""
        if not self.installed_gpus or self.year_seconds <= 0:
            return None
        return Decimal(self.usage.gpu_seconds) / (self.installed_gpus * self.year_seconds)


@dataclass(frozen=True)
class FunderReport:
    year: int
    scheme: Scheme
    envelope: EnvelopeFigures
    months: list[MonthMoney]
    by_sector: list[ReportRow]
    by_category_usage: list[ReportRow]
    by_site: list[SiteLine]
    """Per site and accelerator type (``site · type``), by GPU-hours."""
    projects: list[CategoryProjects]
    funnel: list[tuple[str, int]]
    """Applications submitted in the year, by the furthest stage each reached."""
    installed_gpus: int | None
    year_seconds: int

    @property
    def subsidy_minor(self) -> int:
        return sum(m.subsidy_minor for m in self.months)

    @property
    def copay_minor(self) -> int:
        return sum(m.copay_minor for m in self.months)

    @property
    def gpu_seconds(self) -> int:
        return sum(m.gpu_seconds for m in self.months)

    @property
    def utilisation(self) -> Decimal | None:
        """Charged GPU-seconds over installed GPU-seconds in the (elapsed part of the) year."""
        if not self.installed_gpus or self.year_seconds <= 0:
            return None
        return (Decimal(self.gpu_seconds) / (self.installed_gpus * self.year_seconds)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def applications_received(self) -> int:
        """Applications submitted in the year (the funnel's first stage)."""
        return self.funnel[0][1] if self.funnel else 0

    @property
    def applications_approved(self) -> int:
        """Of those, the ones approved (the funnel's last stage), whenever decided."""
        return self.funnel[-1][1] if self.funnel else 0

    @property
    def projects_total(self) -> int:
        return sum(p.projects for p in self.projects)


def first_start(session: Session, start: datetime, end: datetime) -> datetime | None:
    """The earliest start in [start, end) of a rated job, from the utilisation rollup.

    Each bucket keeps the earliest start of the jobs starting in it.  ``start`` is a year's
    first instant, so a bucket boundary: every job starting in [start, end) lies in a bucket
    starting in [start, end), and if the least of those buckets' earliest starts is not
    before ``end``, no job started in the window.
    """
    low, high = int(start.timestamp()), end.timestamp()
    if low % BUCKET_SECONDS:
        raise ValueError(f"start: not on a {BUCKET_SECONDS}-second boundary: {start.isoformat()}")
    earliest = session.scalar(
        select(func.min(UtilisationRollup.first_start)).where(
            UtilisationRollup.bucket_start >= low, UtilisationRollup.bucket_start < high
        )
    )
    if earliest is None or earliest >= high:
        return None
    return datetime.fromtimestamp(int(earliest), UTC)


def funder_report(
    session: Session, year: int, now: datetime, installed_gpus: int | None = None
) -> FunderReport:
    scheme = get_scheme(session)
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    months = [m for m in money_by_month(session, scheme_id=scheme.id) if first <= m.period <= last]
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = min(datetime(year + 1, 1, 1, tzinfo=UTC), max(now, start))
    # Utilisation counts from the first recorded use in the year (a centre opening mid-year, or
    # the demo's virtual cluster with a few months of history, is not idle before it existed).
    first_use = first_start(session, start, end)
    measured_from = max(start, first_use) if first_use is not None else start
    projects = [
        CategoryProjects(str(r[0].value if hasattr(r[0], "value") else r[0]), int(r[1]), int(r[2]))
        for r in session.execute(
            select(Organisation.category, func.count(Award.id), func.sum(Award.committed_minor))
            .join(Organisation, Organisation.id == Award.organisation_id)
            .where(Award.scheme_id == scheme.id, Award.starts_at < end, Award.ends_at > start)
            .group_by(Organisation.category)
            .order_by(func.count(Award.id).desc())
        ).all()
    ]
    # Received and approved are the two ends of one cohort's funnel (submitted in the year), so
    # the key figure and the funnel chart beside it count the same applications.
    funnel = applications_funnel(session, scheme, start, end)
    year_seconds = max(0, int((end - measured_from).total_seconds()))
    installed = installed_by_site_type(session)
    by_site = [
        SiteLine(row, installed.get(row.key), year_seconds)
        for row in usage_report(session, "site_accelerator", since=first, until=last)
    ]
    return FunderReport(
        year=year,
        scheme=scheme,
        envelope=envelope_figures(session, scheme),
        months=months,
        by_sector=usage_report(session, "sector", since=first, until=last),
        by_category_usage=usage_report(session, "category", since=first, until=last),
        by_site=by_site,
        projects=projects,
        funnel=funnel,
        installed_gpus=installed_gpus,
        year_seconds=year_seconds,
    )
