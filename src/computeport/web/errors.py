"""Typed errors of the web edge (rendered as error pages or problem+json)."""

from __future__ import annotations

from computeport.kit.errors import PermissionDenied


class CsrfFailed(PermissionDenied):
    """The form's CSRF token is missing or does not match the session's."""

    title = "CSRF check failed"


__all__ = ["CsrfFailed"]
