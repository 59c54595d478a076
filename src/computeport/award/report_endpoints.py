"""Progress report endpoints: the applicant files, the committee accepts or queries.

Reports are an award's (``/awards/{award_id}/reports``, and a report is readable only where its
award is), so the routes live with the award, as ``reservation_endpoints`` does: progress keeps
the reports' rules and sits below award, which imports it; progress never imports award.  The
``progress`` tag is kept, so the published OpenAPI document did not change when they moved.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from computeport.award.repository import get_readable
from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.kit.errors import PermissionDenied
from computeport.models.identity import Role
from computeport.progress import service
from computeport.progress.schemas import ReportRead
from computeport.progress.service import ReportIn, ReviewIn
from computeport.progress.tranches import is_overdue

router = APIRouter(prefix="/api/v1", tags=["progress"])


@router.get("/awards/{award_id}/reports", response_model=list[ReportRead], responses={404: {}})
def list_reports(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> list[ReportRead]:
    award = get_readable(session, subject, award_id)
    now = clock.now()
    return [ReportRead.of(r, is_overdue(r, now)) for r in service.reports_of(session, award.id)]


@router.post(
    "/reports/{report_id}/submission",
    response_model=ReportRead,
    responses={403: {}, 404: {}, 409: {}},
)
def submit(
    report_id: uuid.UUID,
    body: ReportIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> ReportRead:
    """The award holder files (or re-files) a report: outputs and narrative."""
    report = service.get_report(session, report_id)
    award = get_readable(session, subject, report.award_id)  # other organisations: 404
    if not subject.can_act_for(award.organisation_id):
        raise PermissionDenied("only the award holder's organisation files its reports")
    report = service.submit_report(session, report_id, body, subject.user_id, clock)
    return ReportRead.of(report, is_overdue(report, clock.now()))


@router.post(
    "/reports/{report_id}/review",
    response_model=ReportRead,
    responses={403: {}, 404: {}, 409: {}},
)
def review(
    report_id: uuid.UUID,
    body: ReviewIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> ReportRead:
    """The committee accepts (releasing the next tranche) or queries a filed report."""
    subject.require(Role.COMMITTEE_MEMBER)
    report = service.review_report(session, report_id, body, subject.user_id, clock)
    return ReportRead.of(report, is_overdue(report, clock.now()))


__all__ = ["router"]
