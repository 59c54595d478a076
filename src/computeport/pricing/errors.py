"""Typed errors of the pricing domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class PriceNotFound(NotFound):
    """No price in force for that accelerator type at that time."""


__all__ = ["PriceNotFound"]
