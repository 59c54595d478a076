"""Typed domain errors, each with the HTTP status the API renders it as (problem+json).

The tree::

    DomainError                      500  base: a message, a status, an optional field
    ├── ValidationFailed             422  bad input; names the field or line
    ├── NotAuthenticated             401  no or bad credentials
    ├── PermissionDenied             403  authenticated, but not allowed
    ├── NotFound                     404  no such thing (or not visible to this subject)
    ├── TooManyAttempts              429  too many failures; try again after a while
    └── Conflict                     409  the request clashes with the current state
        ├── IllegalTransition        409  a workflow move its transition table forbids
        └── BudgetExceeded           409  an envelope, cap or quota would be over-committed

Domains subclass these (``ApplicationNotFound(NotFound)``) so callers can catch precisely and
one handler (``computeport.http.problems``) renders all of them the same way.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error computeport raises on purpose."""

    status_code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    @property
    def type_slug(self) -> str:
        """A stable kebab-case name for the problem ``type`` URI."""
        name = type(self).__name__
        return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


class ValidationFailed(DomainError):
    status_code = 422
    title = "Invalid input"


class NotAuthenticated(DomainError):
    status_code = 401
    title = "Not authenticated"


class PermissionDenied(DomainError):
    status_code = 403
    title = "Forbidden"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class TooManyAttempts(DomainError):
    """Too many failed attempts (sign-ins, API tokens): refused for ``retry_after`` seconds,
    sent as the ``Retry-After`` header."""

    status_code = 429
    title = "Too many attempts"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field, retry_after=retry_after)
        self.retry_after = retry_after


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    title = "Illegal transition"


class BudgetExceeded(Conflict):
    title = "Budget exceeded"
