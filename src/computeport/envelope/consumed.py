"""Where "consumed" comes from: the one seam between the envelope and the ledger.

Consumed is the subsidy actually posted (DESIGN.md): the balance of each award's
``envelope_consumed`` ledger account, read by
:func:`computeport.ledger.queries.consumed_by_award` (0 for an award nothing was charged to).
Everything that needs consumption — the envelope view, early termination and expiry (whose
commitment shrinks to what was consumed) — calls through :func:`consumed_by_award` here, or
takes a :class:`ConsumedSource` so tests can say what was consumed without posting journals.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Protocol

from sqlalchemy.orm import Session

from computeport.ledger import queries as ledger_queries


class ConsumedSource(Protocol):
    """Subsidy consumed so far (cents) per award, for the awards asked about."""

    def __call__(
        self, session: Session, award_ids: Collection[uuid.UUID]
    ) -> Mapping[uuid.UUID, int]:
        """Return consumed subsidy in cents per award id; missing ids mean 0."""
        ...


def consumed_by_award(
    session: Session, award_ids: Collection[uuid.UUID]
) -> Mapping[uuid.UUID, int]:
    """Subsidy consumed per award in cents, from the ledger (0 where nothing was posted)."""
    if not award_ids:
        return {}
    return ledger_queries.consumed_by_award(session, award_ids)


__all__ = ["ConsumedSource", "consumed_by_award"]
