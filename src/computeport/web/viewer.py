"""Who is looking at a page: the identity service's :class:`Subject` plus name and language.

Pages check role and organisation exactly like the API, through the subject: a missing role is
403, another organisation's object is 404 (its existence is not revealed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from computeport.identity.subject import Subject
from computeport.kit.errors import NotFound
from computeport.models.identity import ORGANISATION_ROLES, Role
from computeport.web.i18n import Locale

OPS_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER)
"""Staff who read the centre's operations: the operations page and the centre's job list."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the portal sees them."""

    subject: Subject
    display_name: str
    locale: Locale
    posix_username: str = ""

    @property
    def user_id(self) -> uuid.UUID:
        return self.subject.user_id

    @property
    def roles(self) -> frozenset[Role]:
        return self.subject.roles

    @property
    def organisation_ids(self) -> frozenset[uuid.UUID]:
        return self.subject.organisation_ids

    def has(self, *roles: Role) -> bool:
        """Whether the viewer holds any of ``roles``."""
        return self.subject.has_role(*roles)

    def require(self, *roles: Role) -> None:
        """Refuse (403) unless the viewer holds one of ``roles``."""
        self.subject.require(*roles)

    def require_member_of(self, organisation_id: uuid.UUID, what: str = "organisation") -> None:
        """404 unless the viewer holds an applicant role in ``organisation_id``."""
        if not self.subject.has_organisation_role(organisation_id, *ORGANISATION_ROLES):
            raise NotFound(f"no such {what}")

    @property
    def is_applicant(self) -> bool:
        return bool(self.subject.organisation_ids)

    @property
    def primary_organisation(self) -> uuid.UUID | None:
        """The organisation an applicant's pages open on (the first one held)."""
        ids = self.subject.organisation_ids
        return min(ids) if ids else None
