"""Typed errors of the pricing domain, in one module so a raise and its ``except`` name one class.

The problem type an API client sees is the class name, so a second class of the same name would
render the same problem yet escape an ``except`` (``tests/test_unique_names.py`` checks it).
"""

from __future__ import annotations

from computeport.kit.errors import NotFound


class PriceNotFound(NotFound):
    """No price in force for that accelerator type at that time."""


__all__ = ["PriceNotFound"]
