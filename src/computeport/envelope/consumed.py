"""Where "consumed" comes from: the one seam the ledger plugs into.

Until metering and the ledger land, nothing has been consumed, so every award's consumption
is 0.  The ledger replaces :func:`consumed_by_award`'s body (or passes its own
:class:`ConsumedSource` to the services that take one) with the subsidy actually posted per
award.  Everything that needs consumption — the envelope view, early termination and expiry
(whose commitment shrinks to what was consumed) — calls through here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Protocol

from sqlalchemy.orm import Session


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
    """Subsidy consumed per award in cents: 0 for every award until the ledger lands."""
    return dict.fromkeys(award_ids, 0)


__all__ = ["ConsumedSource", "consumed_by_award"]
