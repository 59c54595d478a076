"""The ledger's invariants: balanced journals, append-only, balances = sums of postings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.ledger.accounts import AccountBook
from computeport.ledger.envelope import post_envelope_movements
from computeport.ledger.errors import JournalExists, UnbalancedJournal
from computeport.ledger.journal import reverse_journal, write_journal
from computeport.ledger.queries import balance_map, consumed_by_award, unbalanced_journals
from computeport.models.award import EnvelopeMovement, MovementKind
from computeport.models.ledger import (
    AccountKind,
    JournalKind,
    LedgerAccount,
    LedgerJournal,
    Posting,
)
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import scheme as fs

WHEN = datetime(2026, 10, 5, tzinfo=UTC)


def _accounts(session: Session, clock: ManualClock, n: int) -> list[uuid.UUID]:
    book = AccountBook(session, clock)
    orgs = [fi.organisation_row(session, clock, f"Ledger org {i} {uuid.uuid4()}") for i in range(n)]
    return [book.id_for(AccountKind.RECEIVABLE, organisation_id=o.id) for o in orgs]


def _journal(
    session: Session,
    clock: ManualClock,
    key: str,
    lines: list[tuple[uuid.UUID, int]],
    *,
    kind: JournalKind = JournalKind.USAGE,
    exist_ok: bool = False,
) -> uuid.UUID | None:
    """:func:`write_journal` at ``WHEN``: the tests vary only the key, the lines and the kind."""
    return write_journal(
        session, clock, key=key, kind=kind, lines=lines, occurred_at=WHEN, exist_ok=exist_ok
    )


def test_an_unbalanced_journal_is_refused(session: Session, clock: ManualClock) -> None:
    a, b = _accounts(session, clock, 2)
    with pytest.raises(UnbalancedJournal, match="sum to 1"):
        _journal(session, clock, "k1", [(a, 100), (b, -99)])
    with pytest.raises(UnbalancedJournal, match="at least two"):
        _journal(session, clock, "k2", [(a, 100), (a, -50), (b, 0)])
    assert session.scalar(select(LedgerJournal.id)) is None


def test_the_idempotency_key_is_unique(session: Session, clock: ManualClock) -> None:
    a, b = _accounts(session, clock, 2)
    first = _journal(session, clock, "src:1", [(a, 5), (b, -5)])
    again = _journal(session, clock, "src:1", [(a, 5), (b, -5)], exist_ok=True)
    assert again == first
    with pytest.raises(JournalExists):
        _journal(session, clock, "src:1", [(a, 5), (b, -5)])


def test_corrections_are_reversing_journals(session: Session, clock: ManualClock) -> None:
    a, b = _accounts(session, clock, 2)
    jid = _journal(session, clock, "src:2", [(a, 700), (b, -700)], kind=JournalKind.PAYMENT)
    assert jid is not None
    rid = reverse_journal(session, clock, jid, reason="entered twice")
    assert reverse_journal(session, clock, jid, reason="again") == rid
    balances = balance_map(session)
    assert all(balances[c] == 0 for c in balances if c.startswith("receivable:"))


def test_postings_cannot_be_updated_or_deleted(session: Session, clock: ManualClock) -> None:
    a, b = _accounts(session, clock, 2)
    _journal(session, clock, "src:3", [(a, 1), (b, -1)])
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(update(Posting).values(amount_minor=2))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM journal"))


def test_postgresql_checks_every_journal_at_commit(session: Session, clock: ManualClock) -> None:
    if session.connection().dialect.name != "postgresql":
        pytest.skip("the deferred constraint trigger is PostgreSQL's")
    a, _ = _accounts(session, clock, 2)
    jid = uuid.uuid4()
    nested = session.begin_nested()
    session.execute(
        insert(LedgerJournal).values(
            id=jid, idempotency_key="raw", kind="usage", occurred_at=WHEN, created_at=WHEN
        )
    )
    session.execute(insert(Posting).values(journal_id=jid, account_id=a, amount_minor=3))
    with pytest.raises(DBAPIError, match="does not balance"):
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    nested.rollback()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(-(10**9), 10**9)), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=6,
    )
)
def test_balances_equal_the_sums_of_postings(
    session: Session, clock: ManualClock, journals: list[list[tuple[int, int]]]
) -> None:
    with session.begin_nested() as sp:
        accounts = _accounts(session, clock, 5)
        expected = dict.fromkeys(range(5), 0)
        for n, legs in enumerate(journals):
            # Balance each random journal against account 4.
            lines = [(accounts[i], v) for i, v in legs]
            lines.append((accounts[4], -sum(v for _, v in legs)))
            try:
                _journal(session, clock, f"p:{n}", lines)
            except UnbalancedJournal:
                continue  # everything netted to nothing: refused, and nothing was written
            for i, v in legs:
                expected[i] += v
            expected[4] -= sum(v for _, v in legs)
        assert unbalanced_journals(session) == []
        balances = balance_map(session)
        code_of = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).all())
        got = {i: balances[code_of[a]] for i, a in enumerate(accounts)}
        assert got == expected
        sp.rollback()


def test_envelope_movements_become_journals_once(session: Session, clock: ManualClock) -> None:
    sch = fs.scheme_row(session, clock)
    org = fi.organisation_row(session, clock, "Envelope org")
    award = fw.award(session, clock, sch, org, "aiss-env", cap_minor=1_000_000)
    session.add(
        EnvelopeMovement(
            scheme_id=sch.id,
            award_id=award.id,
            delta_minor=1_000_000,
            kind=MovementKind.COMMIT,
            reason="decision",
            at=WHEN,
        )
    )
    session.flush()
    assert post_envelope_movements(session, clock) == 1
    assert post_envelope_movements(session, clock) == 0
    balances = balance_map(session)
    assert balances[f"envelope_committed:{award.id}"] == 1_000_000
    assert balances[f"envelope_available:{sch.id}"] == -1_000_000
    assert consumed_by_award(session, [award.id]) == {award.id: 0}
