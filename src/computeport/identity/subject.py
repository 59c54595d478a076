"""Who is asking: a user's id, roles and organisations, resolved once per request.

Every permission question in services and endpoints is asked of a :class:`Subject`, never of
raw memberships, so the rules live in one place:

- staff roles (operator, scheme officer, committee member, reviewer, funder) have no
  organisation; all but the reviewer see every organisation's data (the funder read-only:
  it holds no role any write endpoint accepts);
- a reviewer sees only what is assigned to them (the review service decides);
- applicant roles (organisation admin, member) see only their own organisations' data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from computeport.kit.errors import PermissionDenied
from computeport.models.identity import ORGANISATION_ROLES, STAFF_ROLES, Role

OVERSEERS = frozenset({Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.FUNDER})
"""Staff roles that may read every organisation's data."""


@dataclass(frozen=True)
class Subject:
    """The authenticated caller."""

    user_id: uuid.UUID
    email: str
    staff_roles: frozenset[Role] = frozenset()
    organisation_roles: Mapping[uuid.UUID, frozenset[Role]] = field(default_factory=dict)

    @property
    def roles(self) -> frozenset[Role]:
        """Every role held, staff and applicant."""
        found = set(self.staff_roles)
        for roles in self.organisation_roles.values():
            found |= roles
        return frozenset(found)

    @property
    def organisation_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(self.organisation_roles)

    @property
    def sees_all_organisations(self) -> bool:
        return bool(self.staff_roles & OVERSEERS)

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_roles)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def require(self, *roles: Role) -> None:
        """Raise 403 unless the subject holds at least one of ``roles`` (anywhere)."""
        if not self.has_role(*roles):
            wanted = ", ".join(r.value for r in roles)
            raise PermissionDenied(f"this needs one of the roles: {wanted}")

    def can_see_organisation(self, organisation_id: uuid.UUID) -> bool:
        return self.sees_all_organisations or organisation_id in self.organisation_roles

    def has_organisation_role(self, organisation_id: uuid.UUID, *roles: Role) -> bool:
        return bool(self.organisation_roles.get(organisation_id, frozenset()) & set(roles))

    def can_act_for(self, organisation_id: uuid.UUID) -> bool:
        """Whether the subject may write on behalf of the organisation (any applicant role)."""
        return self.has_organisation_role(organisation_id, *ORGANISATION_ROLES)

    @classmethod
    def from_memberships(
        cls,
        user_id: uuid.UUID,
        email: str,
        memberships: Iterable[tuple[Role, uuid.UUID | None]],
    ) -> Subject:
        staff: set[Role] = set()
        orgs: dict[uuid.UUID, set[Role]] = {}
        for role, organisation_id in memberships:
            if organisation_id is None:
                if role in STAFF_ROLES:
                    staff.add(role)
            elif role in ORGANISATION_ROLES:
                orgs.setdefault(organisation_id, set()).add(role)
        return cls(
            user_id,
            email,
            frozenset(staff),
            {org: frozenset(roles) for org, roles in orgs.items()},
        )
