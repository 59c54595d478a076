"""REST endpoints for committee decisions and awards (thin: the services decide)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from computeport.award import repository
from computeport.award.amend import amend
from computeport.award.decide import decide
from computeport.award.lifecycle import terminate
from computeport.award.presenters import (
    AWARD_READ,
    AWARD_READS,
    award_read,
    award_reads_of_rows,
)
from computeport.award.schemas import (
    AmendmentIn,
    AmendmentRead,
    AwardRead,
    DecisionIn,
    DecisionOut,
    TerminateIn,
)
from computeport.http.deps import ClockDep, SessionDep, json_response
from computeport.http.paging import Limit, Offset
from computeport.identity.auth import CurrentSubject
from computeport.models.application import Application
from computeport.models.award import AwardAmendment, AwardStatus
from computeport.models.identity import Role

router = APIRouter(prefix="/api/v1", tags=["awards"])

DECIDERS = (Role.COMMITTEE_MEMBER,)
"""The government-appointed committee decides and amends awards."""


def _amendment(row: AwardAmendment) -> AmendmentRead:
    return AmendmentRead(
        id=row.id,
        award_id=row.award_id,
        kind=row.kind,
        cap_delta_minor=row.cap_delta_minor,
        gpu_hours_delta={k: int(v) for k, v in row.gpu_hours_delta.items()},
        previous_ends_at=row.previous_ends_at,
        new_ends_at=row.new_ends_at,
        reason=row.reason,
        at=row.at,
    )


@router.post(
    "/applications/{application_id}/decision",
    response_model=DecisionOut,
    responses={
        404: {},
        409: {"description": "not decidable, or the envelope is exhausted"},
        422: {},
    },
)
def post_decision(
    application_id: uuid.UUID,
    body: DecisionIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> DecisionOut:
    """The committee approves (creating the award) or rejects a recommended application."""
    subject.require(*DECIDERS)
    award = decide(session, application_id, body, subject.user_id, clock)
    application = session.get_one(Application, application_id)
    return DecisionOut(
        application_id=application_id,
        application_status=application.status.value,
        award=award_read(session, award, clock.now()) if award is not None else None,
    )


@router.get("/awards", response_model=list[AwardRead])
def list_awards(
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    status: AwardStatus | None = None,
    organisation_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Awards the caller may read: every award for staff, its own organisations' otherwise."""
    # Rows, not ORM objects, and the response serialised here (not validated again by
    # FastAPI): the read API's most-read list (issue #6).
    rows = repository.readable_rows(
        session, subject, status=status, organisation_id=organisation_id, limit=limit, offset=offset
    )
    return json_response(AWARD_READS, award_reads_of_rows(session, rows, clock.now()))


@router.get("/awards/{award_id}", response_model=AwardRead, responses={404: {}})
def get_award(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> Response:
    row = repository.readable_row(session, subject, award_id)
    return json_response(AWARD_READ, award_reads_of_rows(session, [row], clock.now())[0])


@router.get(
    "/awards/{award_id}/amendments", response_model=list[AmendmentRead], responses={404: {}}
)
def list_amendments(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> list[AmendmentRead]:
    award = repository.get_readable(session, subject, award_id)
    return [_amendment(a) for a in repository.amendments_of(session, award.id)]


@router.post(
    "/awards/{award_id}/amendments",
    response_model=AmendmentRead,
    status_code=201,
    responses={404: {}, 409: {}, 422: {}},
)
def post_amendment(
    award_id: uuid.UUID,
    body: AmendmentIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AmendmentRead:
    """A top-up (more GPU-hours and/or cap, committed against the envelope) or an extension."""
    subject.require(*DECIDERS)
    return _amendment(amend(session, award_id, body, subject.user_id, clock))


@router.post(
    "/awards/{award_id}/terminate",
    response_model=AwardRead,
    responses={404: {}, 409: {}},
)
def post_terminate(
    award_id: uuid.UUID,
    body: TerminateIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AwardRead:
    """End the award early; its commitment shrinks to what was consumed."""
    subject.require(*DECIDERS)
    terminate(session, award_id, body.reason, subject.user_id, clock)
    return award_read(session, repository.lock_award(session, award_id, lock=False), clock.now())


__all__ = ["router"]
