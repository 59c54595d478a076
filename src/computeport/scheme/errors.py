"""Typed errors of the scheme domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import Conflict, NotFound


class CallNotFound(NotFound):
    title = "Call not found"


class CallNotOpen(Conflict):
    title = "Call not open"


__all__ = ["CallNotFound", "CallNotOpen"]
