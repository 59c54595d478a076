"""REST endpoints for organisations, users, memberships and API tokens (thin: services decide)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from pydantic import TypeAdapter

from computeport.http.deps import ClockDep, SessionDep, json_response
from computeport.http.paging import Limit, Offset
from computeport.identity import service
from computeport.identity.auth import CurrentSubject
from computeport.identity.schemas import (
    MembershipCreate,
    MembershipRead,
    MeRead,
    OrganisationCreate,
    OrganisationRead,
    StaffRoleGrant,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)
from computeport.kit.errors import PermissionDenied
from computeport.models.identity import OrganisationCategory, Role

router = APIRouter(prefix="/api/v1", tags=["identity"])

ORGANISATION_READS = TypeAdapter(list[OrganisationRead])
"""Validates a page of organisation rows in one call, and serialises it (built once)."""


@router.get("/me", response_model=MeRead)
async def me(subject: CurrentSubject, session: SessionDep) -> MeRead:
    # On the event loop, like the authentication before it: one primary-key read in a
    # read-only transaction (never waits for a lock) costs less than a thread-pool hop.
    user = service.get_user(session, subject.user_id, subject)
    return MeRead(
        user=UserRead.model_validate(user),
        staff_roles=sorted(subject.staff_roles),
        organisations={k: sorted(v) for k, v in subject.organisation_roles.items()},
    )


@router.get("/organisations", response_model=list[OrganisationRead])
async def list_organisations(
    subject: CurrentSubject,
    session: SessionDep,
    category: OrganisationCategory | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    # On the event loop, like /me: one read of a page of an indexed table in a read-only
    # transaction (never waits for a lock) costs less than a hop to the thread pool and back.
    rows = service.organisation_rows(
        session, subject, category=category, limit=limit, offset=offset
    )
    # The whole page validated in one pydantic-core call and serialised once, not validated
    # again by FastAPI (in the thread pool) against the response model.
    return json_response(
        ORGANISATION_READS, ORGANISATION_READS.validate_python(rows, from_attributes=True)
    )


@router.post("/organisations", response_model=OrganisationRead, status_code=status.HTTP_201_CREATED)
def create_organisation(
    body: OrganisationCreate, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> OrganisationRead:
    """Register an organisation: an applicant becomes its administrator; officers may too."""
    if subject.is_staff and not subject.has_role(Role.OPERATOR, Role.SCHEME_OFFICER):
        raise PermissionDenied(
            "only operators, scheme officers and applicants register organisations"
        )
    org = service.create_organisation(
        session,
        name=body.name,
        category=body.category,
        sector=body.sector,
        registration_number=body.registration_number,
        creator=subject,
        at=clock.now(),
    )
    return OrganisationRead.model_validate(org)


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
def get_organisation(
    organisation_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> OrganisationRead:
    return OrganisationRead.model_validate(
        service.get_organisation(session, organisation_id, subject)
    )


@router.post(
    "/organisations/{organisation_id}/memberships",
    response_model=MembershipRead,
    status_code=status.HTTP_201_CREATED,
)
def add_member(
    organisation_id: uuid.UUID,
    body: MembershipCreate,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> MembershipRead:
    """Add a user to an organisation (its administrator, an operator or a scheme officer)."""
    service.get_organisation(session, organisation_id, subject)  # 404 when not visible
    membership = service.grant_role(
        session,
        user_id=body.user_id,
        role=body.role,
        organisation_id=organisation_id,
        granted_by=subject,
        at=clock.now(),
    )
    return MembershipRead.model_validate(membership)


@router.delete("/memberships/{membership_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_role(membership_id: uuid.UUID, subject: CurrentSubject, session: SessionDep) -> None:
    """Take a role away (operators, scheme officers, or the organisation's administrator)."""
    service.revoke_role(session, membership_id, revoked_by=subject)


@router.get("/users", response_model=list[UserRead])
def list_users(
    subject: CurrentSubject, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[UserRead]:
    return [
        UserRead.model_validate(u)
        for u in service.list_users(session, subject, limit=limit, offset=offset)
    ]


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> UserRead:
    """Create a user (operators and scheme officers)."""
    subject.require(*service.ROLE_GRANTERS)
    user = service.create_user(
        session,
        email=body.email,
        display_name=body.display_name,
        posix_username=body.posix_username,
        password=body.password,
        locale=body.locale,
        at=clock.now(),
    )
    return UserRead.model_validate(user)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: uuid.UUID, subject: CurrentSubject, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.get_user(session, user_id, subject))


@router.post(
    "/users/{user_id}/roles", response_model=MembershipRead, status_code=status.HTTP_201_CREATED
)
def grant_role(
    user_id: uuid.UUID,
    body: StaffRoleGrant,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> MembershipRead:
    """Grant a role: operators any; scheme officers panel and applicant roles."""
    subject.require(*service.ROLE_GRANTERS)
    membership = service.grant_role(
        session,
        user_id=user_id,
        role=body.role,
        organisation_id=body.organisation_id,
        granted_by=subject,
        at=clock.now(),
    )
    return MembershipRead.model_validate(membership)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(subject: CurrentSubject, session: SessionDep) -> list[TokenRead]:
    """The caller's own tokens (prefixes only; secrets are never shown again)."""
    return [TokenRead.model_validate(t) for t in service.list_tokens(session, subject.user_id)]


@router.post("/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenCreate, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> TokenIssued:
    token, plaintext = service.issue_token(
        session, user_id=subject.user_id, name=body.name, expires_at=body.expires_at, at=clock.now()
    )
    return TokenIssued(**TokenRead.model_validate(token).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(
    token_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> TokenRead:
    return TokenRead.model_validate(
        service.revoke_token(session, token_id, by=subject, at=clock.now())
    )
