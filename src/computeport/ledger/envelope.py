"""Envelope commitments in the ledger: one journal per ``envelope_movement`` row.

The award service records every change of an award's commitment as an append-only movement;
here each becomes a journal keyed ``envelope:<movement id>`` (so posting twice is a no-op)::

    Dr envelope_committed:<award>   delta
    Cr envelope_available:<scheme>  delta

Usage then moves subsidy from committed to consumed (see :mod:`computeport.billing.posting`),
so per award: committed balance = commitment not yet consumed, consumed balance = subsidy
posted, and an expired award's committed balance returns to zero.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.ledger.accounts import AccountBook
from computeport.ledger.journal import write_journal
from computeport.models.award import EnvelopeMovement
from computeport.models.ledger import AccountKind, JournalKind, LedgerJournal


def post_envelope_movements(session: Session, clock: Clock) -> int:
    """Post every envelope movement not yet in the ledger; return how many were posted."""
    done = set(
        session.scalars(
            select(LedgerJournal.idempotency_key).where(LedgerJournal.kind == JournalKind.ENVELOPE)
        )
    )
    movements = session.scalars(select(EnvelopeMovement).order_by(EnvelopeMovement.id)).all()
    book = AccountBook(session, clock)
    posted = 0
    for m in movements:
        key = f"envelope:{m.id}"
        if key in done or m.delta_minor == 0:
            continue
        committed = book.id_for(
            AccountKind.ENVELOPE_COMMITTED, award_id=m.award_id, scheme_id=m.scheme_id
        )
        available = book.id_for(AccountKind.ENVELOPE_AVAILABLE, scheme_id=m.scheme_id)
        write_journal(
            session,
            clock,
            key=key,
            kind=JournalKind.ENVELOPE,
            lines=[(committed, m.delta_minor), (available, -m.delta_minor)],
            occurred_at=m.at,
            description=f"Envelope {m.kind}: {m.reason}".strip(),
        )
        posted += 1
    return posted


__all__ = ["post_envelope_movements"]
