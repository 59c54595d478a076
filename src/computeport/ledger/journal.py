"""Writing journals: the one place postings are created, and where the invariants are checked.

A journal is refused unless it has at least two non-zero postings summing to zero in one
currency; its idempotency key (derived from its source) is unique, so writing the same source
twice is either a no-op (``exist_ok``) or a :class:`JournalExists` conflict.  Corrections are
new journals (:func:`reverse_journal`), never edits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.kit.errors import DomainError
from computeport.kit.ids import uuid7
from computeport.ledger.errors import JournalExists, UnbalancedJournal
from computeport.models.ledger import JournalKind, LedgerJournal, Posting


def net_lines(lines: Iterable[tuple[uuid.UUID, int]]) -> list[tuple[uuid.UUID, int]]:
    """Merge lines per account and drop zeros, in a stable order (by account id)."""
    sums: dict[uuid.UUID, int] = defaultdict(int)
    for account_id, amount in lines:
        sums[account_id] += amount
    return sorted(((a, v) for a, v in sums.items() if v != 0), key=lambda av: av[0])


def check_balanced(lines: list[tuple[uuid.UUID, int]]) -> None:
    """Raise :class:`UnbalancedJournal` unless ≥ 2 postings sum to zero."""
    if len(lines) < 2:
        raise UnbalancedJournal(f"a journal needs at least two postings, got {len(lines)}")
    total = sum(amount for _, amount in lines)
    if total != 0:
        raise UnbalancedJournal(f"postings sum to {total}, not 0")


def journal_id_for(session: Session, key: str) -> uuid.UUID | None:
    return session.scalar(select(LedgerJournal.id).where(LedgerJournal.idempotency_key == key))


def write_journal(
    session: Session,
    clock: Clock,
    *,
    key: str,
    kind: JournalKind,
    lines: Iterable[tuple[uuid.UUID, int]],
    occurred_at: datetime,
    description: str = "",
    currency: str = "HKD",
    reverses_id: uuid.UUID | None = None,
    exist_ok: bool = False,
) -> uuid.UUID | None:
    """Write one balanced journal; return its id (None when all lines netted to zero).

    With ``exist_ok``, a journal already written under ``key`` is returned unchanged.
    """
    existing = journal_id_for(session, key)
    if existing is not None:
        if exist_ok:
            return existing
        raise JournalExists(f"journal {key!r} already written", field="idempotency_key")
    netted = net_lines(lines)
    if not netted:
        return None
    check_balanced(netted)
    journal_id = uuid7()
    session.execute(
        insert(LedgerJournal).values(
            id=journal_id,
            idempotency_key=key,
            kind=kind,
            description=description,
            occurred_at=occurred_at,
            reverses_id=reverses_id,
            created_at=clock.now(),
        )
    )
    session.execute(
        insert(Posting),
        [
            {"journal_id": journal_id, "account_id": a, "amount_minor": v, "currency": currency}
            for a, v in netted
        ],
    )
    return journal_id


def reverse_journal(
    session: Session, clock: Clock, journal_id: uuid.UUID, *, reason: str
) -> uuid.UUID:
    """Write the mirror image of a journal (key ``reversal:<id>``); idempotent."""
    original = session.get(LedgerJournal, journal_id)
    if original is None:
        raise DomainError(f"journal {journal_id} not found")
    rows = session.execute(
        select(Posting.account_id, Posting.amount_minor, Posting.currency).where(
            Posting.journal_id == journal_id
        )
    ).all()
    reversed_id = write_journal(
        session,
        clock,
        key=f"reversal:{journal_id}",
        kind=JournalKind.REVERSAL,
        lines=[(r.account_id, -r.amount_minor) for r in rows],
        occurred_at=clock.now(),
        description=f"Reversal of {original.idempotency_key}: {reason}",
        currency=rows[0].currency if rows else "HKD",
        reverses_id=journal_id,
        exist_ok=True,
    )
    assert reversed_id is not None
    return reversed_id


__all__ = [
    "check_balanced",
    "net_lines",
    "reverse_journal",
    "write_journal",
]
