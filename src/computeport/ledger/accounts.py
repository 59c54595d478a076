"""The chart of accounts: one account per (kind, owner), created on first use.

Codes are stable and readable — ``receivable:<organisation id>``, ``envelope_consumed:<award
id>``, ``revenue:gpu`` — so journals can be read without joins and two posters racing to
create the same account meet on the unique code.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.kit.ids import uuid7
from computeport.models.ledger import AccountKind, LedgerAccount

_PER_AWARD = {
    AccountKind.ENVELOPE_COMMITTED,
    AccountKind.ENVELOPE_CONSUMED,
    AccountKind.SUBSIDY_RECEIVABLE,
}
_NAMES = {
    AccountKind.ENVELOPE_AVAILABLE: "Envelope not yet committed",
    AccountKind.ENVELOPE_COMMITTED: "Envelope committed, not yet consumed",
    AccountKind.ENVELOPE_CONSUMED: "Envelope consumed (subsidy)",
    AccountKind.SUBSIDY_RECEIVABLE: "Subsidy receivable from the funder",
    AccountKind.RECEIVABLE: "Receivable from the organisation",
    AccountKind.REVENUE: "GPU revenue at list price",
    AccountKind.CASH: "Cash",
}


def account_code(kind: AccountKind, owner: uuid.UUID | str | None = None) -> str:
    """The stable code of the account of ``kind`` owned by ``owner`` (None: centre-wide)."""
    if kind in (AccountKind.REVENUE,):
        return "revenue:gpu"
    if kind is AccountKind.CASH:
        return "cash"
    if owner is None:
        raise ValueError(f"{kind} accounts need an owner")
    return f"{kind.value}:{owner}"


class AccountBook:
    """Finds or creates accounts, caching ids for the life of one unit of work."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self._ids: dict[str, uuid.UUID] | None = None

    def _known(self) -> dict[str, uuid.UUID]:
        if self._ids is None:
            self._ids = {
                code: account_id
                for code, account_id in self.session.execute(
                    select(LedgerAccount.code, LedgerAccount.id)
                ).all()
            }
        return self._ids

    def id_for(
        self,
        kind: AccountKind,
        *,
        award_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
        scheme_id: uuid.UUID | None = None,
        currency: str = "HKD",
    ) -> uuid.UUID:
        owner: uuid.UUID | None
        if kind in _PER_AWARD:
            owner = award_id
        elif kind is AccountKind.RECEIVABLE:
            owner = organisation_id
        elif kind is AccountKind.ENVELOPE_AVAILABLE:
            owner = scheme_id
        else:
            owner = None
        code = account_code(kind, owner)
        known = self._known()
        found = known.get(code)
        if found is not None:
            return found
        dialect = self.session.connection().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert(LedgerAccount)
            .values(
                id=uuid7(),
                code=code,
                kind=kind,
                name=_NAMES[kind],
                currency=currency,
                scheme_id=scheme_id,
                award_id=award_id if kind in _PER_AWARD else None,
                organisation_id=organisation_id if kind is AccountKind.RECEIVABLE else None,
                created_at=self.clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["code"])
        )
        account_id = self.session.scalar(select(LedgerAccount.id).where(LedgerAccount.code == code))
        assert account_id is not None
        known[code] = account_id
        return account_id


__all__ = ["AccountBook", "account_code"]
