"""Payments racing for one invoice on real PostgreSQL.

Each racer has its own session and commits for real, so the document's row lock is what stands
between them and an overpaid invoice: 8 payments of a quarter of what is due, at once (a
barrier) — exactly 4 must win, every loser must get the Conflict naming ``amount_minor``, and
the cash in the ledger must equal the invoice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.billing.payments import record_payment
from computeport.billing.posting import post_all
from computeport.db.engine import make_session_factory
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict
from computeport.ledger.queries import balance_map
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument, DocumentKind, Payment
from tests.factories import billing as fb
from tests.support.databases import own_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RACERS = 8


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    with own_database("postgresql", "cp_pay_race", connections=RACERS) as engine:
        yield engine


@pytest.fixture(scope="module")
def invoices(pg_engine: Engine) -> list[tuple[str, int]]:
    """October closed for real: ``(number, due)`` of each invoice with something due."""
    factory = make_session_factory(pg_engine)
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    with factory() as session, session.begin():
        world = fb.World(session, clock)
        ingest_usage(session, clock, world.october())
        post_all(session, clock)
        close_period(session, clock, "2026-10", issue_date=datetime(2026, 11, 1, tzinfo=UTC))
        rows = session.execute(
            select(BillingDocument.number, BillingDocument.due_minor)
            .where(BillingDocument.kind == DocumentKind.INVOICE, BillingDocument.due_minor > 0)
            .order_by(BillingDocument.number)
        ).all()
    assert len(rows) >= 2
    return [(number, due) for number, due in rows]


def test_racing_payments_never_overpay_an_invoice(
    pg_engine: Engine, invoices: list[tuple[str, int]]
) -> None:
    factory: sessionmaker[Session] = make_session_factory(pg_engine)
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    number, due = invoices[0]
    quarter = due // 4
    assert quarter > 0
    with factory() as session:
        paid_before = balance_map(session).get("cash", 0)

    barrier = threading.Barrier(RACERS)
    won: list[str] = []
    lost: list[Conflict] = []
    other: list[BaseException] = []
    guard = threading.Lock()

    def racer(k: int) -> None:
        barrier.wait()
        try:
            with factory() as session, session.begin():
                record_payment(
                    session, clock, number=number, amount_minor=quarter, reference=f"RACE-{k}"
                )
            with guard:
                won.append(f"RACE-{k}")
        except Conflict as exc:
            with guard:
                lost.append(exc)
        except BaseException as exc:
            with guard:
                other.append(exc)

    threads = [threading.Thread(target=racer, args=(k,)) for k in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert other == []
    assert len(won) == 4
    assert len(lost) == RACERS - 4
    assert {exc.field for exc in lost} == {"amount_minor"}
    with factory() as session:
        assert balance_map(session)["cash"] - paid_before == 4 * quarter


def test_one_bank_reference_sent_at_once_is_recorded_once(
    pg_engine: Engine, invoices: list[tuple[str, int]]
) -> None:
    """A client retrying before the first answer came: the same payment four times at once is
    one payment, and every attempt answers with it (no unique-key error)."""
    factory: sessionmaker[Session] = make_session_factory(pg_engine)
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    number, _due = invoices[1]
    barrier = threading.Barrier(4)
    answers: list[object] = []
    guard = threading.Lock()

    def racer() -> None:
        barrier.wait()
        try:
            with factory() as session, session.begin():
                payment = record_payment(
                    session, clock, number=number, amount_minor=1, reference="RETRY-1"
                )
                result: object = payment.id
        except BaseException as exc:
            result = exc
        with guard:
            answers.append(result)

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 1, answers
    with factory() as session:
        rows = session.scalars(select(Payment).where(Payment.reference == "RETRY-1")).all()
        assert len(rows) == 1
