"""Application use cases: drafts, edits, submission, the workflow, attachments.

Every status change goes through :func:`transition`, which checks the transition table and
writes the audit record in the same unit of work.  Use-case functions check who may act; the
bare :func:`transition` is for other domains' services that checked already (the award
decision moves an application to ``approved``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application import attachments as storage
from computeport.application.errors import (
    ApplicationNotFound,
    AttachmentNotFound,
    DeclarationRequired,
    NotEditable,
    NotEligible,
)
from computeport.application.references import next_reference
from computeport.application.repository import (
    applications_readable_by,
    assignment_of,
    lock_application,
)
from computeport.application.repository import (
    list_applications as list_applications,  # the list query's home; callers use the service
)
from computeport.application.workflow import APPLICATION_WORKFLOW, EDITABLE_STATES
from computeport.audit.service import record_transition
from computeport.identity.errors import OrganisationNotFound
from computeport.identity.subject import Subject
from computeport.kit.accelerators import accelerator
from computeport.kit.clock import ManualClock, ensure_aware
from computeport.kit.errors import Conflict, PermissionDenied, ValidationFailed
from computeport.models.application import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    AttachmentKind,
    Precision,
    WorkloadKind,
)
from computeport.models.audit import AuditRecord
from computeport.models.identity import Organisation, Role
from computeport.models.review import AssignmentStatus
from computeport.models.scheme import Call, Scheme
from computeport.notification import events
from computeport.scheme import service as schemes
from computeport.scheme.errors import CallNotOpen

S = ApplicationStatus

MAX_GPUS = 100_000
MAX_GPU_HOURS = 1_000_000_000
MAX_DURATION_MONTHS = 60
HOURS_IN_LONGEST_MONTH = 31 * 24


@dataclass(frozen=True)
class ComputeRequest:
    """The structured compute request of an application."""

    accelerator_type: str
    gpus: int
    gpu_hours: int
    duration_months: int
    model_parameters: int | None = None
    dataset_tokens: int | None = None
    precision: Precision = Precision.BF16
    workload: WorkloadKind = WorkloadKind.TRAINING
    justification: str = ""


def _check_request(r: ComputeRequest) -> None:
    accelerator(r.accelerator_type)
    bounds = {
        "gpus": (r.gpus, MAX_GPUS),
        "gpu_hours": (r.gpu_hours, MAX_GPU_HOURS),
        "duration_months": (r.duration_months, MAX_DURATION_MONTHS),
    }
    for name, (value, high) in bounds.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed(f"{name}: must be a whole number", field=name)
        if not 1 <= value <= high:
            raise ValidationFailed(f"{name}: must be between 1 and {high:,}", field=name)
    ceiling = r.gpus * r.duration_months * HOURS_IN_LONGEST_MONTH
    if r.gpu_hours > ceiling:
        raise ValidationFailed(
            f"gpu_hours: {r.gpu_hours:,} is more than {r.gpus:,} GPUs can run in "
            f"{r.duration_months} months ({ceiling:,} GPU-hours at 100% use)",
            field="gpu_hours",
        )
    for name, opt in (
        ("model_parameters", r.model_parameters),
        ("dataset_tokens", r.dataset_tokens),
    ):
        if opt is not None and opt <= 0:
            raise ValidationFailed(f"{name}: must be positive", field=name)
    if accelerator(r.accelerator_type).peak(r.precision.value) is None:
        raise ValidationFailed(
            f"precision: {r.accelerator_type} has no {r.precision.value} mode", field="precision"
        )


# -- reading -------------------------------------------------------------------------------


def get_application(session: Session, subject: Subject, application_id: uuid.UUID) -> Application:
    """One application the subject may read.

    A reviewer assigned but not yet declared gets 403 telling them to declare first; anyone
    else who may not read it gets 404 (its existence is not revealed).
    """
    found = session.scalar(
        applications_readable_by(subject).where(Application.id == application_id)
    )
    if found is not None:
        return found
    if Role.REVIEWER in subject.staff_roles:
        assignment = assignment_of(session, application_id, subject.user_id)
        if assignment is not None and assignment.status is AssignmentStatus.AWAITING_DECLARATION:
            raise DeclarationRequired(
                "declare any conflict of interest for this application before you can see it "
                f"(POST /api/v1/review-assignments/{assignment.id}/declaration)",
                assignment_id=str(assignment.id),
            )
    raise ApplicationNotFound(f"no application {application_id}")


def history(session: Session, subject: Subject, application_id: uuid.UUID) -> list[AuditRecord]:
    """The application's audit trail (readable by whoever may read the application)."""
    application = get_application(session, subject, application_id)
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == Application.__tablename__)
        .where(AuditRecord.entity_id == application.id)
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    return list(session.scalars(stmt))


# -- drafting ------------------------------------------------------------------------------


def create_application(
    session: Session,
    subject: Subject,
    *,
    scheme_id: uuid.UUID,
    organisation_id: uuid.UUID,
    title: str,
    sector: str,
    request: ComputeRequest,
    at: datetime,
    abstract: str = "",
    call_id: uuid.UUID | None = None,
) -> Application:
    """Start a draft for one of the subject's organisations; it gets its reference now."""
    at = ensure_aware(at)
    org = session.get(Organisation, organisation_id)
    if org is None or not subject.can_see_organisation(organisation_id):
        raise OrganisationNotFound(f"no organisation {organisation_id}", field="organisation_id")
    if not subject.can_act_for(organisation_id):
        raise PermissionDenied("only members of the organisation may apply on its behalf")
    scheme = schemes.get_scheme(session, scheme_id)
    if call_id is not None:
        call = schemes.get_call(session, call_id)
        if call.scheme_id != scheme.id:
            raise ValidationFailed("call_id: the call belongs to another scheme", field="call_id")
    if not title.strip():
        raise ValidationFailed("title: must not be empty", field="title")
    _check_request(request)
    application = Application(
        reference=next_reference(session, scheme.id, scheme.code, at.year),
        scheme_id=scheme.id,
        call_id=call_id,
        organisation_id=org.id,
        created_by_id=subject.user_id,
        status=S.DRAFT,
        title=title.strip(),
        abstract=abstract,
        sector=sector,
        accelerator_type=request.accelerator_type,
        gpus=request.gpus,
        gpu_hours=request.gpu_hours,
        duration_months=request.duration_months,
        model_parameters=request.model_parameters,
        dataset_tokens=request.dataset_tokens,
        precision=request.precision,
        workload=request.workload,
        justification=request.justification,
        created_at=at,
    )
    session.add(application)
    session.flush()
    record_transition(session, application, None, S.DRAFT, subject.user_id, "created", at)
    return application


EDITABLE_FIELD_ORDER = (
    "title",
    "abstract",
    "sector",
    "call_id",
    "accelerator_type",
    "gpus",
    "gpu_hours",
    "duration_months",
    "model_parameters",
    "dataset_tokens",
    "precision",
    "workload",
    "justification",
)
"""What an applicant may edit, in the order forms show it."""
EDITABLE_FIELDS = frozenset(EDITABLE_FIELD_ORDER)


NOT_NULL_FIELDS = EDITABLE_FIELDS - {"call_id", "model_parameters", "dataset_tokens"}


def _editable(session: Session, subject: Subject, application_id: uuid.UUID) -> Application:
    application = get_application(session, subject, application_id)
    if not subject.can_act_for(application.organisation_id):
        raise PermissionDenied("only members of the applicant organisation may change it")
    if application.status not in EDITABLE_STATES:
        raise NotEditable(
            f"application {application.reference} is {application.status.value}; it can be "
            "changed only as a draft or when a revision was requested",
            field="status",
        )
    return application


def update_application(
    session: Session, subject: Subject, application_id: uuid.UUID, changes: Mapping[str, Any]
) -> Application:
    """Change a draft (or an application sent back for revision); validated as a whole."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name}: cannot be changed", field=name)
    for name in NOT_NULL_FIELDS & set(changes):
        if changes[name] is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    application = _editable(session, subject, application_id)
    merged = {f: getattr(application, f) for f in EDITABLE_FIELDS} | dict(changes)
    _check_request(
        ComputeRequest(
            accelerator_type=merged["accelerator_type"],
            gpus=merged["gpus"],
            gpu_hours=merged["gpu_hours"],
            duration_months=merged["duration_months"],
            model_parameters=merged["model_parameters"],
            dataset_tokens=merged["dataset_tokens"],
            precision=Precision(merged["precision"]),
            workload=WorkloadKind(merged["workload"]),
        )
    )
    if not str(merged["title"]).strip():
        raise ValidationFailed("title: must not be empty", field="title")
    if changes.get("call_id") is not None:
        call = schemes.get_call(session, changes["call_id"])
        if call.scheme_id != application.scheme_id:
            raise ValidationFailed("call_id: the call belongs to another scheme", field="call_id")
    for name, value in changes.items():
        setattr(application, name, value)
    session.flush()
    return application


# -- the workflow --------------------------------------------------------------------------


def transition(
    session: Session,
    application: Application,
    to: ApplicationStatus,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
    at: datetime,
) -> AuditRecord:
    """Move ``application`` to ``to`` if the table allows it; write the audit record.

    The caller has checked who may do this.  Raises :class:`IllegalTransition` (409) and
    changes nothing when the move is not legal.
    """
    at = ensure_aware(at)
    source = application.status
    APPLICATION_WORKFLOW.check(source, to, context=application, reason=reason)
    application.status = to
    if to is S.SUBMITTED:
        application.submitted_at = at
    if to in (S.APPROVED, S.REJECTED):
        application.decided_at = at
    session.flush()
    return record_transition(session, application, source, to, actor_id, reason, at)


def _call_for_submission(session: Session, application: Application, at: datetime) -> Call:
    if application.call_id is not None:
        call = schemes.get_call(session, application.call_id)
        schemes.ensure_open(call, at)
        return call
    open_now = schemes.open_calls(session, application.scheme_id, at)
    if not open_now:
        raise CallNotOpen("call_id: no call of this scheme is open now", field="call_id")
    if len(open_now) > 1:
        names = ", ".join(c.name for c in open_now)
        raise ValidationFailed(
            f"call_id: several calls are open ({names}); choose one", field="call_id"
        )
    return open_now[0]


def _check_submittable(session: Session, application: Application, at: datetime) -> None:
    scheme = session.get(Scheme, application.scheme_id)
    org = session.get(Organisation, application.organisation_id)
    assert scheme is not None
    assert org is not None
    if org.category.value not in scheme.eligible_categories:
        raise NotEligible(
            f"organisations of category {org.category.value} are not eligible for "
            f"{scheme.code} (eligible: {', '.join(scheme.eligible_categories)})",
            field="organisation_id",
        )
    if not scheme.period_start <= at < scheme.period_end:
        raise NotEligible(f"{scheme.code} does not take applications now", field="scheme_id")
    for name in ("abstract", "justification"):
        if not str(getattr(application, name)).strip():
            raise ValidationFailed(f"{name}: required before submission", field=name)
    call = _call_for_submission(session, application, at)
    application.call_id = call.id


TARGET_ROLES: dict[ApplicationStatus, frozenset[Role]] = {
    S.UNDER_REVIEW: frozenset({Role.SCHEME_OFFICER}),
    S.REVISION_REQUESTED: frozenset({Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER}),
    S.RECOMMENDED: frozenset({Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER}),
    S.NOT_RECOMMENDED: frozenset({Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER}),
    S.REJECTED: frozenset({Role.COMMITTEE_MEMBER}),
}
"""Staff moves and who may make them; the applicant's moves are handled in :func:`move`."""


def move(
    session: Session,
    subject: Subject,
    application_id: uuid.UUID,
    to: ApplicationStatus,
    *,
    reason: str,
    at: datetime,
) -> Application:
    """The use case behind ``POST /applications/{id}/transitions``: who may, then the table.

    - the applicant submits (draft → submitted, inside an open call, eligible category),
      resubmits (revision_requested → under_review) and withdraws (with a reason);
    - the scheme officer starts the review; officers and the committee ask for revision and
      recommend; the committee rejects;
    - approval happens only through the committee's award decision (the award service).
    """
    at = ensure_aware(at)
    application = get_application(session, subject, application_id)
    locked = lock_application(session, application.id)
    assert locked is not None
    application = locked
    applicant = subject.can_act_for(application.organisation_id)
    source = application.status
    if to is S.APPROVED:
        raise Conflict("approval creates an award: use the committee's award decision", field="to")
    if to is S.SUBMITTED or (to is S.UNDER_REVIEW and source is S.REVISION_REQUESTED):
        if not applicant:
            raise PermissionDenied("only the applicant organisation submits its application")
        APPLICATION_WORKFLOW.check(source, to, context=application, reason=reason)
        if to is S.SUBMITTED:
            _check_submittable(session, application, at)
    elif to is S.WITHDRAWN:
        if not (applicant or subject.has_role(Role.SCHEME_OFFICER)):
            raise PermissionDenied("only the applicant (or a scheme officer) withdraws")
    elif to in TARGET_ROLES:
        subject.require(*TARGET_ROLES[to])
    else:
        raise Conflict(f"no move leads to {to.value}", field="to")
    transition(session, application, to, actor_id=subject.user_id, reason=reason, at=at)
    _notify(session, application, to, reason, at)
    return application


def _notify(
    session: Session, application: Application, to: ApplicationStatus, reason: str, at: datetime
) -> None:
    """Queue the applicant's e-mail for the moves they must hear about (the outbox)."""
    clock = ManualClock(at)
    if to is S.SUBMITTED:
        events.notify_submission_received(session, clock, application)
    elif to is S.REVISION_REQUESTED:
        events.notify_revision_requested(session, clock, application, reason)
    elif to is S.REJECTED:
        events.notify_decision(session, clock, application, None, reason)


# -- attachments ---------------------------------------------------------------------------


def add_attachment(
    session: Session,
    subject: Subject,
    application_id: uuid.UUID,
    *,
    kind: AttachmentKind,
    filename: str,
    content_type: str,
    stream: BinaryIO,
    root: Path,
    max_bytes: int,
    at: datetime,
) -> ApplicationAttachment:
    """Store a file for an editable application: checked, hashed, then moved into place."""
    application = _editable(session, subject, application_id)
    safe_name = Path(filename or "upload").name[:255] or "upload"
    staged = storage.stage(root, stream, content_type, max_bytes)
    try:
        row = ApplicationAttachment(
            application_id=application.id,
            kind=kind,
            filename=safe_name,
            content_type=staged.content_type,
            size_bytes=staged.size_bytes,
            sha256=staged.sha256,
            storage_key=staged.storage_key,
            uploaded_by_id=subject.user_id,
            created_at=ensure_aware(at),
        )
        session.add(row)
        session.flush()
        storage.commit(staged)
    except BaseException:
        storage.discard(staged)
        raise
    return row


def list_attachments(
    session: Session, subject: Subject, application_id: uuid.UUID
) -> list[ApplicationAttachment]:
    application = get_application(session, subject, application_id)
    stmt = (
        select(ApplicationAttachment)
        .where(ApplicationAttachment.application_id == application.id)
        .order_by(ApplicationAttachment.created_at, ApplicationAttachment.id)
    )
    return list(session.scalars(stmt))


def get_attachment(
    session: Session, subject: Subject, application_id: uuid.UUID, attachment_id: uuid.UUID
) -> ApplicationAttachment:
    application = get_application(session, subject, application_id)
    row = session.get(ApplicationAttachment, attachment_id)
    if row is None or row.application_id != application.id:
        raise AttachmentNotFound(f"no attachment {attachment_id}")
    return row
