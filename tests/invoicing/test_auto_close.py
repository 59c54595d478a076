"""The automatic month-end: which months are due, and the worker duty that closes them.

October 2026 of tests/factories/billing.py's World (hand-checked in test_golden.py) with a two-day
grace: not due on 2 November, due from 3 November, closed once, due again only when a late
October record has been rated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.billing.posting import post_all
from computeport.invoicing.auto_close import periods_due
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument
from computeport.worker.duties import ClosePeriods
from tests.factories.billing import World
from tests.factories.metering import record

GRACE = timedelta(days=2)
NOV_2 = datetime(2026, 11, 2, tzinfo=UTC)
NOV_3 = datetime(2026, 11, 3, tzinfo=UTC)


def _rated_october(session: Session, clock: ManualClock) -> World:
    world = World(session, clock)
    clock.set(NOV_2)
    ingest_usage(session, clock, world.october())
    post_all(session, clock)
    return world


def _documents(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(BillingDocument)) or 0)


def test_a_month_is_due_once_its_grace_has_passed_and_only_until_it_is_closed(
    session: Session, clock: ManualClock
) -> None:
    _rated_october(session, clock)
    assert periods_due(session, NOV_2, GRACE) == []
    assert periods_due(session, NOV_3 - timedelta(seconds=1), GRACE) == []
    assert periods_due(session, NOV_3, GRACE) == ["2026-10"]
    assert periods_due(session, NOV_3, timedelta(0)) == ["2026-10"]
    clock.set(NOV_3)
    close_period(session, clock, "2026-10")
    assert periods_due(session, NOV_3, GRACE) == []


def test_a_late_record_makes_a_closed_month_due_again(session: Session, clock: ManualClock) -> None:
    _rated_october(session, clock)
    clock.set(NOV_3)
    close_period(session, clock, "2026-10")
    late = record(99, "aiss-a", end=datetime(2026, 10, 30, tzinfo=UTC), gpus=2, seconds=3600)
    ingest_usage(session, clock, [late])
    post_all(session, clock)
    assert periods_due(session, NOV_3, GRACE) == ["2026-10"]


def test_months_beyond_the_lookback_are_left_to_a_person(
    session: Session, clock: ManualClock
) -> None:
    _rated_october(session, clock)
    assert periods_due(session, datetime(2027, 3, 3, tzinfo=UTC), GRACE) == []
    assert periods_due(session, datetime(2027, 1, 3, tzinfo=UTC), GRACE) == ["2026-10", "2026-11"]


def test_the_duty_closes_each_due_month_once(session: Session, clock: ManualClock) -> None:
    _rated_october(session, clock)
    session.flush()
    # Units of work on the test's connection: each commits a savepoint of its transaction.
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    duty = ClosePeriods(sessions, clock, GRACE)
    assert duty.run(NOV_2) is None
    clock.set(NOV_3)
    summary = duty.run(NOV_3)
    assert summary is not None
    assert summary.startswith("closed 2026-10:")
    with sessions() as fresh:
        issued = _documents(fresh)
    assert issued > 0
    assert duty.run(NOV_3) is None
    with sessions() as fresh:
        assert _documents(fresh) == issued
