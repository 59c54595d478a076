"""Typed errors of the envelope domain, in one module so a raise and its ``except`` name one class.

The problem type an API client sees is the class name, so a second class of the same name would
render the same problem yet escape an ``except`` (``tests/test_unique_names.py`` checks it).
"""

from __future__ import annotations

from computeport.kit.errors import NotFound


class SchemeNotFound(NotFound):
    """No scheme with that id or code."""


__all__ = ["SchemeNotFound"]
