"""Typed errors of the ledger domain (rendered as problem+json by the API)."""

from __future__ import annotations

from computeport.kit.errors import Conflict, DomainError


class UnbalancedJournal(DomainError):
    """A journal whose postings do not sum to zero (a bug, never user input)."""

    status_code = 500
    title = "Unbalanced journal"


class JournalExists(Conflict):
    """A journal with this idempotency key was already written."""


__all__ = ["JournalExists", "UnbalancedJournal"]
