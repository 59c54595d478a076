"""Typed errors of the award domain."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class AwardNotFound(NotFound):
    """No award with that id (or not visible to the caller)."""


class ApplicationNotFound(NotFound):
    """No application with that id (or not visible to the caller)."""


__all__ = ["ApplicationNotFound", "AwardNotFound"]
