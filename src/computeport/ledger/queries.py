"""Reading the ledger: balances are sums of postings, always computed, never stored.

Also the envelope's "consumed" (DESIGN.md: consumed = subsidy posted): the balance of each
award's ``envelope_consumed`` account.  :func:`consumed_by_award` has the signature of
:class:`computeport.envelope.consumed.ConsumedSource`, so the envelope view plugs it in.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.models.ledger import AccountKind, LedgerAccount, LedgerJournal, Posting


@dataclass(frozen=True)
class AccountBalance:
    code: str
    kind: AccountKind
    name: str
    balance_minor: int
    """Debit positive, credit negative."""


def balances(session: Session) -> list[AccountBalance]:
    """Every account with its balance (sum of its postings), ordered by code."""
    rows = session.execute(
        select(
            LedgerAccount.code,
            LedgerAccount.kind,
            LedgerAccount.name,
            func.coalesce(func.sum(Posting.amount_minor), 0),
        )
        .outerjoin(Posting, Posting.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id, LedgerAccount.code, LedgerAccount.kind, LedgerAccount.name)
        .order_by(LedgerAccount.code)
    ).all()
    return [AccountBalance(r[0], AccountKind(r[1]), r[2], int(r[3])) for r in rows]


def balance_map(session: Session) -> dict[str, int]:
    """``{account code: balance}`` — what the property and crash tests compare."""
    return {b.code: b.balance_minor for b in balances(session)}


def balances_by_owner(
    session: Session, kind: AccountKind, owners: Collection[uuid.UUID] | None = None
) -> dict[uuid.UUID, int]:
    """Balance per owner (award or organisation) of the accounts of one kind."""
    owner = (
        LedgerAccount.organisation_id if kind is AccountKind.RECEIVABLE else LedgerAccount.award_id
    )
    stmt = (
        select(owner, func.coalesce(func.sum(Posting.amount_minor), 0))
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == kind)
        .group_by(owner)
    )
    if owners is not None:
        stmt = stmt.where(owner.in_(list(owners)))
    return {r[0]: int(r[1]) for r in session.execute(stmt).all() if r[0] is not None}


def consumed_by_award(
    session: Session, award_ids: Collection[uuid.UUID]
) -> Mapping[uuid.UUID, int]:
    """Subsidy consumed per award in cents (balance of ``envelope_consumed``); 0 when none."""
    found = balances_by_owner(session, AccountKind.ENVELOPE_CONSUMED, award_ids)
    return {a: found.get(a, 0) for a in award_ids}


def unbalanced_journals(session: Session) -> list[tuple[str, int, int]]:
    """Journals breaking the invariant: ``(key, sum, postings)``; empty when the ledger is sound."""
    rows = session.execute(
        select(
            LedgerJournal.idempotency_key,
            func.coalesce(func.sum(Posting.amount_minor), 0),
            func.count(Posting.id),
        )
        .outerjoin(Posting, Posting.journal_id == LedgerJournal.id)
        .group_by(LedgerJournal.id, LedgerJournal.idempotency_key)
        .having(
            (func.coalesce(func.sum(Posting.amount_minor), 0) != 0) | (func.count(Posting.id) < 2)
        )
    ).all()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


__all__ = [
    "AccountBalance",
    "balance_map",
    "balances",
    "balances_by_owner",
    "consumed_by_award",
    "unbalanced_journals",
]
