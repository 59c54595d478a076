"""Typed errors of the progress domain, in one module so a raise and its ``except`` name one class.

The problem type an API client sees is the class name, so a second class of the same name would
render the same problem yet escape an ``except`` (``tests/test_unique_names.py`` checks it).
"""

from __future__ import annotations

from computeport.kit.errors import NotFound


class ReportNotFound(NotFound):
    """No progress report with that id (or not visible to the caller)."""


__all__ = ["ReportNotFound"]
