"""REST endpoints for applications (thin: the service checks roles, organisations and states)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from computeport.application import service
from computeport.application.attachments import open_stored
from computeport.application.errors import AttachmentNotFound
from computeport.application.estimator import estimate_gpu_hours
from computeport.application.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationUpdate,
    AttachmentRead,
    AuditRead,
    EstimateQuery,
    EstimateRead,
    TransitionIn,
)
from computeport.http.deps import ClockDep, SessionDep
from computeport.http.paging import Limit, Offset
from computeport.identity.auth import CurrentSubject
from computeport.models.application import Application, ApplicationStatus, AttachmentKind
from computeport.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["applications"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.cp.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def read(application: Application) -> ApplicationRead:
    """The API view, with the 6·N·D estimate when model size and tokens are given."""
    out = ApplicationRead.model_validate(application)
    if application.model_parameters and application.dataset_tokens:
        e = estimate_gpu_hours(
            application.model_parameters,
            application.dataset_tokens,
            application.precision.value,
            application.accelerator_type,
            workload=application.workload.value,
        )
        out.estimate = EstimateRead.of(e, application.gpu_hours)
    return out


@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(
    subject: CurrentSubject,
    session: SessionDep,
    scheme_id: uuid.UUID | None = None,
    status_: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    organisation_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ApplicationRead]:
    found = service.list_applications(
        session,
        subject,
        scheme_id=scheme_id,
        status=status_,
        organisation_id=organisation_id,
        limit=limit,
        offset=offset,
    )
    return [read(a) for a in found]


@router.post("/applications", response_model=ApplicationRead, status_code=status.HTTP_201_CREATED)
def create_application(
    body: ApplicationCreate, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> ApplicationRead:
    application = service.create_application(
        session,
        subject,
        scheme_id=body.scheme_id,
        organisation_id=body.organisation_id,
        call_id=body.call_id,
        title=body.title,
        abstract=body.abstract,
        sector=body.sector,
        request=service.ComputeRequest(
            accelerator_type=body.accelerator_type,
            gpus=body.gpus,
            gpu_hours=body.gpu_hours,
            duration_months=body.duration_months,
            model_parameters=body.model_parameters,
            dataset_tokens=body.dataset_tokens,
            precision=body.precision,
            workload=body.workload,
            justification=body.justification,
        ),
        at=clock.now(),
    )
    return read(application)


@router.get("/applications/{application_id}", response_model=ApplicationRead)
def get_application(
    application_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> ApplicationRead:
    return read(service.get_application(session, subject, application_id))


@router.patch("/applications/{application_id}", response_model=ApplicationRead)
def update_application(
    application_id: uuid.UUID, body: ApplicationUpdate, subject: CurrentSubject, session: SessionDep
) -> ApplicationRead:
    changes = body.model_dump(exclude_unset=True)
    return read(service.update_application(session, subject, application_id, changes))


@router.post("/applications/{application_id}/transitions", response_model=ApplicationRead)
def transition(
    application_id: uuid.UUID,
    body: TransitionIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> ApplicationRead:
    """Move the application (submit, start review, request revision, recommend, reject,
    withdraw); illegal moves are 409 and change nothing."""
    application = service.move(
        session, subject, application_id, body.to, reason=body.reason, at=clock.now()
    )
    return read(application)


@router.get("/applications/{application_id}/history", response_model=list[AuditRead])
def history(
    application_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> list[AuditRead]:
    return [AuditRead.model_validate(r) for r in service.history(session, subject, application_id)]


@router.post(
    "/applications/{application_id}/attachments",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
)
def add_attachment(
    application_id: uuid.UUID,
    kind: Annotated[AttachmentKind, Form()],
    file: Annotated[UploadFile, File()],
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> AttachmentRead:
    """Upload a proposal, business registration or budget (pdf, png, jpeg, xlsx, csv, docx)."""
    row = service.add_attachment(
        session,
        subject,
        application_id,
        kind=kind,
        filename=file.filename or "upload",
        content_type=file.content_type or "",
        stream=file.file,
        root=settings.attachments_dir,
        max_bytes=settings.attachment_max_bytes,
        at=clock.now(),
    )
    return AttachmentRead.model_validate(row)


@router.get("/applications/{application_id}/attachments", response_model=list[AttachmentRead])
def list_attachments(
    application_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> list[AttachmentRead]:
    rows = service.list_attachments(session, subject, application_id)
    return [AttachmentRead.model_validate(r) for r in rows]


@router.get(
    "/applications/{application_id}/attachments/{attachment_id}/content",
    response_class=FileResponse,
)
def download_attachment(
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    subject: CurrentSubject,
    session: SessionDep,
    settings: SettingsDep,
) -> FileResponse:
    row = service.get_attachment(session, subject, application_id, attachment_id)
    path = open_stored(settings.attachments_dir, row.storage_key)
    if not path.is_file():
        raise AttachmentNotFound(f"the stored file of attachment {attachment_id} is missing")
    return FileResponse(path, media_type=row.content_type, filename=row.filename)


@router.get("/estimates/gpu-hours", response_model=EstimateRead)
def estimate(query: Annotated[EstimateQuery, Query()], _subject: CurrentSubject) -> EstimateRead:
    """GPU-hours for a model: 6·N·D FLOPs (training) at a stated utilisation (default 40%)."""
    e = estimate_gpu_hours(
        query.model_parameters,
        query.tokens,
        query.precision.value,
        query.accelerator_type,
        query.utilisation,
        workload=query.workload.value,
    )
    return EstimateRead.of(e)
