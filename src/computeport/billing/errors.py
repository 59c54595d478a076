"""Typed errors of the billing domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class DocumentNotFound(NotFound):
    """No billing document with that number (or not visible)."""


__all__ = ["DocumentNotFound"]
