"""Applications in any state, built through the real service (so every row is audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from computeport.application import service
from computeport.identity.subject import Subject
from computeport.models.application import Application, ApplicationStatus
from computeport.models.identity import Organisation, Role
from computeport.models.scheme import Call, Scheme
from tests.factories import identity as identity_factory
from tests.factories import scheme as scheme_factory

S = ApplicationStatus
T = datetime(2026, 1, 15, tzinfo=UTC)

REQUEST = service.ComputeRequest(
    accelerator_type="h800",
    gpus=64,
    gpu_hours=60_000,
    duration_months=6,
    model_parameters=7_000_000_000,
    dataset_tokens=2_000_000_000_000,
    justification="Pre-training a 7B Cantonese-English model on 2T tokens.",
)

PATH_TO: dict[ApplicationStatus, list[ApplicationStatus]] = {
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.UNDER_REVIEW: [S.SUBMITTED, S.UNDER_REVIEW],
    S.REVISION_REQUESTED: [S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED],
    S.RECOMMENDED: [S.SUBMITTED, S.UNDER_REVIEW, S.RECOMMENDED],
    S.NOT_RECOMMENDED: [S.SUBMITTED, S.UNDER_REVIEW, S.NOT_RECOMMENDED],
    S.APPROVED: [S.SUBMITTED, S.UNDER_REVIEW, S.RECOMMENDED, S.APPROVED],
    S.REJECTED: [S.SUBMITTED, S.UNDER_REVIEW, S.NOT_RECOMMENDED, S.REJECTED],
    S.WITHDRAWN: [S.WITHDRAWN],
}


def application(
    session: Session,
    *,
    scheme: Scheme | None = None,
    organisation: Organisation | None = None,
    applicant: Subject | None = None,
    status: ApplicationStatus = S.DRAFT,
    call: Call | None = None,
    title: str = "Cantonese LLM",
    at: datetime = T,
) -> Application:
    """An application moved to ``status`` along the shortest legal path (each step audited)."""
    the_scheme = scheme or scheme_factory.scheme(session)
    if call is None and status is not S.DRAFT:
        call = scheme_factory.call(session, the_scheme)
    org = organisation or identity_factory.organisation(session)
    who = applicant or identity_factory.subject(
        session, identity_factory.user(session, roles=(Role.ORG_ADMIN,), organisation=org)
    )
    app = service.create_application(
        session,
        who,
        scheme_id=the_scheme.id,
        organisation_id=org.id,
        call_id=call.id if call else None,
        title=title,
        abstract="A bilingual model for public services.",
        sector="public services",
        request=REQUEST,
        at=at,
    )
    for step in PATH_TO[status]:
        if step is S.SUBMITTED:
            service.move(session, who, app.id, S.SUBMITTED, reason="", at=at)
        else:
            service.transition(session, app, step, actor_id=None, reason="factory", at=at)
    return app
