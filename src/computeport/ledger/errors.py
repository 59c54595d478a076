"""Typed errors of the ledger domain, in one module so a raise and its ``except`` name one class.

The problem type an API client sees is the class name, so a second class of the same name would
render the same problem yet escape an ``except`` (``tests/test_unique_names.py`` checks it).
"""

from __future__ import annotations

from computeport.kit.errors import Conflict, DomainError


class UnbalancedJournal(DomainError):
    """A journal whose postings do not sum to zero (a bug, never user input)."""

    status_code = 500
    title = "Unbalanced journal"


class JournalExists(Conflict):
    """A journal with this idempotency key was already written."""


__all__ = ["JournalExists", "UnbalancedJournal"]
