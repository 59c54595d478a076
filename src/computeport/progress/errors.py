"""Typed errors of the progress domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class ReportNotFound(NotFound):
    """No progress report with that id (or not visible to the caller)."""


__all__ = ["ReportNotFound"]
