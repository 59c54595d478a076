"""/api/v1/lab/studies: ask the policy lab a question, read saved answers (thin: the service).

Operators, scheme officers and committee members may ask and read. A bad question (empty
window, unknown category or organisation, a cluster smaller than the largest job, a policy with
an unknown key) is a 422 problem naming the field; nothing is saved.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from computeport.http.deps import ClockDep, SessionDep, app_state
from computeport.http.state import AppState
from computeport.identity.auth import CurrentSubject
from computeport.lab.schemas import LabStudyIn, LabStudyRead, LabStudySummary
from computeport.lab.service import Question, ask
from computeport.lab.store import load_study, recent_studies
from computeport.lab.study import csv_of
from computeport.models.identity import Role
from computeport.models.lab import LabStudy

router = APIRouter(prefix="/api/v1/lab", tags=["lab"])

LAB_USERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER)


def _summary(study: LabStudy) -> LabStudySummary:
    return LabStudySummary(
        id=study.id,
        label=study.label,
        created_at=study.created_at,
        changes=list(study.changes.get("changes", [])),
    )


def _read(study: LabStudy) -> LabStudyRead:
    return LabStudyRead(**_summary(study).model_dump(), result=study.result)


@router.post("/studies", response_model=LabStudyRead, status_code=201, responses={403: {}, 422: {}})
def create_study(
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    state: Annotated[AppState, Depends(app_state)],
    body: Annotated[LabStudyIn, Body()],
) -> LabStudyRead:
    """Replay the window as it was and under each change; save and return the answer."""
    subject.require(*LAB_USERS)
    question = Question(
        datetime.combine(body.from_date, time(0), tzinfo=UTC),
        datetime.combine(body.to_date, time(0), tzinfo=UTC),
        tuple(body.changes),
        body.policy,
    )
    study_id, _study = ask(
        session, state.backend, question, clock=clock, requested_by=subject.user_id
    )
    return _read(load_study(session, study_id))


@router.get("/studies", response_model=list[LabStudySummary], responses={403: {}})
def list_studies(subject: CurrentSubject, session: SessionDep) -> list[LabStudySummary]:
    """The latest saved studies, newest first."""
    subject.require(*LAB_USERS)
    return [_summary(s) for s in recent_studies(session)]


@router.get("/studies/{study_id}", response_model=LabStudyRead, responses={403: {}, 404: {}})
def get_study(subject: CurrentSubject, session: SessionDep, study_id: uuid.UUID) -> LabStudyRead:
    subject.require(*LAB_USERS)
    return _read(load_study(session, study_id))


@router.get("/studies/{study_id}/table.csv", responses={403: {}, 404: {}})
def get_study_csv(subject: CurrentSubject, session: SessionDep, study_id: uuid.UUID) -> Response:
    """The side-by-side table as CSV."""
    subject.require(*LAB_USERS)
    study = load_study(session, study_id)
    return Response(
        csv_of(study.result),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="lab-{study_id}.csv"'},
    )
