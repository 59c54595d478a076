"""Consumed comes from the ledger: termination keeps exactly the subsidy posted to the award."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.award.lifecycle import terminate
from computeport.envelope.service import envelope_figures
from computeport.kit.clock import ManualClock
from computeport.ledger.accounts import AccountBook
from computeport.ledger.envelope import post_envelope_movements
from computeport.ledger.journal import write_journal
from computeport.ledger.queries import balances_by_owner
from computeport.models.ledger import AccountKind, JournalKind
from tests.factories import award as fw


def test_termination_shrinks_to_the_subsidy_posted(session: Session, clock: ManualClock) -> None:
    scheme = fw.scheme(session)
    award = fw.approved_award(session, clock, scheme, cap_minor=1_000_00)
    post_envelope_movements(session, clock)
    book = AccountBook(session, clock)
    # 300.00 of subsidy consumed by usage: committed → consumed, as billing posts it
    write_journal(
        session,
        clock,
        key="test:usage",
        kind=JournalKind.ENVELOPE,
        lines=[
            (book.id_for(AccountKind.ENVELOPE_CONSUMED, award_id=award.id), 300_00),
            (book.id_for(AccountKind.ENVELOPE_COMMITTED, award_id=award.id), -300_00),
        ],
        occurred_at=clock.now(),
    )
    assert envelope_figures(session, scheme).consumed_minor == 300_00

    terminate(session, award.id, "ended early", None, clock)

    assert award.committed_minor == 300_00
    figures = envelope_figures(session, scheme)
    assert (figures.committed_minor, figures.consumed_minor) == (300_00, 300_00)
    post_envelope_movements(session, clock)
    committed_left = balances_by_owner(session, AccountKind.ENVELOPE_COMMITTED, [award.id])
    assert committed_left.get(award.id, 0) == 0  # nothing held beyond what was consumed
