"""REST endpoints for schemes, rubrics and calls (reads: any user; writes: scheme officers)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from pydantic import TypeAdapter

from computeport.http.deps import ClockDep, SessionDep, json_response
from computeport.identity.auth import CurrentSubject
from computeport.models.identity import Role
from computeport.models.scheme import Call
from computeport.scheme import service
from computeport.scheme.rubric import CriterionSpec
from computeport.scheme.schemas import (
    CallCreate,
    CallRead,
    CriterionIn,
    RubricIn,
    SchemeCreate,
    SchemeRead,
    SchemeUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["schemes"])

SCHEME_READS = TypeAdapter(list[SchemeRead])
"""Validates the schemes (with their criteria) in one call, and serialises them (built once)."""


def _specs(criteria: list[CriterionIn]) -> list[CriterionSpec]:
    return [
        CriterionSpec(c.key, c.name, c.weight, c.description, c.is_assumption) for c in criteria
    ]


def _call(call: Call, clock: ClockDep) -> CallRead:
    read = CallRead.model_validate(call)
    read.open_now = service.is_open(call, clock.now())
    return read


@router.get("/schemes", response_model=list[SchemeRead])
async def list_schemes(_subject: CurrentSubject, session: SessionDep) -> Response:
    # On the event loop, like the authentication before it: one read of two small tables (the
    # schemes joined with their criteria) in a read-only transaction, which never waits for a
    # lock, costs less than a thread-pool hop.
    schemes = service.list_schemes(session)
    return json_response(SCHEME_READS, SCHEME_READS.validate_python(schemes, from_attributes=True))


@router.post("/schemes", response_model=SchemeRead, status_code=status.HTTP_201_CREATED)
def create_scheme(
    body: SchemeCreate, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> SchemeRead:
    subject.require(Role.SCHEME_OFFICER)
    scheme = service.create_scheme(
        session,
        code=body.code,
        name=body.name,
        envelope_minor=body.envelope_minor,
        currency=body.currency,
        period_start=body.period_start,
        period_end=body.period_end,
        default_rate=body.default_rate,
        max_rate=body.max_rate,
        eligible_categories=[c.value for c in body.eligible_categories],
        criteria=_specs(body.criteria),
        notes=body.notes,
        at=clock.now(),
    )
    return SchemeRead.model_validate(scheme)


@router.get("/schemes/{scheme_id}", response_model=SchemeRead)
def get_scheme(scheme_id: uuid.UUID, _subject: CurrentSubject, session: SessionDep) -> SchemeRead:
    return SchemeRead.model_validate(service.get_scheme(session, scheme_id))


@router.patch("/schemes/{scheme_id}", response_model=SchemeRead)
def update_scheme(
    scheme_id: uuid.UUID, body: SchemeUpdate, subject: CurrentSubject, session: SessionDep
) -> SchemeRead:
    subject.require(Role.SCHEME_OFFICER)
    changes = body.model_dump(exclude_unset=True)
    if "eligible_categories" in changes and changes["eligible_categories"] is not None:
        changes["eligible_categories"] = [c.value for c in body.eligible_categories or []]
    scheme = service.update_scheme(session, scheme_id, **changes)
    return SchemeRead.model_validate(scheme)


@router.put("/schemes/{scheme_id}/rubric", response_model=SchemeRead)
def set_rubric(
    scheme_id: uuid.UUID, body: RubricIn, subject: CurrentSubject, session: SessionDep
) -> SchemeRead:
    subject.require(Role.SCHEME_OFFICER)
    scheme = service.set_rubric(session, scheme_id, _specs(body.criteria))
    session.refresh(scheme)
    return SchemeRead.model_validate(scheme)


@router.get("/schemes/{scheme_id}/calls", response_model=list[CallRead])
def list_calls(
    scheme_id: uuid.UUID, _subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> list[CallRead]:
    return [_call(c, clock) for c in service.list_calls(session, scheme_id)]


@router.post(
    "/schemes/{scheme_id}/calls", response_model=CallRead, status_code=status.HTTP_201_CREATED
)
def create_call(
    scheme_id: uuid.UUID,
    body: CallCreate,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> CallRead:
    subject.require(Role.SCHEME_OFFICER)
    call = service.create_call(
        session,
        scheme_id,
        name=body.name,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        at=clock.now(),
    )
    return _call(call, clock)


@router.post("/calls/{call_id}/close", response_model=CallRead)
def close_call(
    call_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> CallRead:
    subject.require(Role.SCHEME_OFFICER)
    return _call(service.close_call(session, call_id, at=clock.now()), clock)
