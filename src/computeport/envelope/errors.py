"""Typed errors of the envelope domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class SchemeNotFound(NotFound):
    """No scheme with that id or code."""


__all__ = ["SchemeNotFound"]
