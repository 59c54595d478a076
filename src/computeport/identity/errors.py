"""Typed errors of the identity domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied


class OrganisationNotFound(NotFound):
    title = "Organisation not found"


class UserNotFound(NotFound):
    title = "User not found"


class MembershipNotFound(NotFound):
    title = "Membership not found"


class TokenNotFound(NotFound):
    title = "Token not found"


class InvalidCredentials(NotAuthenticated):
    title = "Invalid credentials"


class DuplicateIdentity(Conflict):
    title = "Already exists"


class MissingCredentials(InvalidCredentials):
    title = "Not authenticated"


class CsrfRefused(PermissionDenied):
    """A session-cookie request that changes something came without the session's CSRF token."""

    title = "CSRF check failed"


__all__ = [
    "CsrfRefused",
    "DuplicateIdentity",
    "InvalidCredentials",
    "MembershipNotFound",
    "MissingCredentials",
    "OrganisationNotFound",
    "TokenNotFound",
    "UserNotFound",
]
