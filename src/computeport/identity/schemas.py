"""API shapes of the identity domain (Pydantic 2, with the constraints that make bad input 422)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from computeport.kit.inputs import InputModel
from computeport.kit.instants import UtcDatetime
from computeport.models.identity import OrganisationCategory, Role


class OrganisationCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    category: OrganisationCategory
    sector: str = Field(default="general", min_length=1, max_length=64)
    registration_number: str | None = Field(default=None, max_length=64)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    category: OrganisationCategory
    sector: str
    registration_number: str | None
    is_assumption: bool
    created_at: datetime


_NOT_IN_ADDRESS = r"@\s\x1c-\x1f\x85\ufeff"
EMAIL_PATTERN = rf"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+\.[^{_NOT_IN_ADDRESS}]+$"
r"""What the service takes for an address (``service.EMAIL_RE``), stated in the schema too.

``\s`` differs between Python and the ECMA-262 regexes JSON Schema uses (Python's also holds
U+001C-U+001F and U+0085, ECMA's U+FEFF): naming those too makes both engines agree.
"""


class UserCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    display_name: str = Field(min_length=1, max_length=200)
    posix_username: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_][a-z0-9_-]*$")
    password: str | None = Field(default=None, min_length=10, max_length=200)
    locale: str = Field(default="en", pattern=r"^(en|zh-Hant)$")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    posix_username: str
    locale: str
    is_active: bool


class MembershipCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    role: Role


class StaffRoleGrant(InputModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    organisation_id: uuid.UUID | None = None


class MembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    organisation_id: uuid.UUID | None
    role: Role


class MeRead(BaseModel):
    user: UserRead
    staff_roles: list[Role]
    organisations: dict[uuid.UUID, list[Role]]


class TokenCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    expires_at: UtcDatetime | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The secret; shown once, never again.")
