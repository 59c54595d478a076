"""Rating and posting: the cap in job-end order, late records, corrections, credits, payg."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from weakref import WeakKeyDictionary

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState
from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv
from computeport.kit.clock import ManualClock
from computeport.ledger.queries import balance_map, unbalanced_journals
from computeport.metering.ingest import ingest_usage
from computeport.models.award import OverCapPolicy
from computeport.models.invoicing import BillingDocument
from computeport.models.ledger import Posting
from computeport.models.metering import UsageCharge
from tests.billing import support as s

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def ratings(session: Session) -> dict[tuple[str, str], tuple[str, int, int, int]]:
    """Each record's current rating: (kind of the last rating, list, subsidy, co-payment)."""
    session.flush()
    rows = session.execute(select(UsageCharge).order_by(UsageCharge.id)).scalars().all()
    kinds: dict[tuple[str, str], str] = {}
    sums: dict[tuple[str, str], tuple[int, int, int]] = {}
    for r in rows:
        key = (r.cluster, r.job_id)
        if r.sign > 0:
            kinds[key] = str(r.kind)
        list_minor, subsidy_minor, copay_minor = sums.get(key, (0, 0, 0))
        sums[key] = (
            list_minor + r.list_minor,
            subsidy_minor + r.subsidy_minor,
            copay_minor + r.copay_minor,
        )
    return {key: (kinds.get(key, ""), *sums[key]) for key in sums}


@pytest.fixture
def world(session: Session, clock: ManualClock) -> s.World:
    w = s.World(session, clock)
    clock.set(NOW)
    return w


def test_the_cap_is_consumed_in_job_end_order(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    ingest_usage(session, clock, world.october()[:4])
    post_all(session, clock)
    r = ratings(session)
    assert r[("aisc", "1")] == ("subsidised", 22_400, 15_680, 6_720)
    assert r[("aisc", "3")] == ("over_cap", 22_400, 14_720, 7_680)
    assert r[("aisc", "4")] == ("over_cap", 2_800, 0, 2_800)


def test_a_late_record_is_rated_as_if_it_had_arrived_in_order(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    jobs = world.october()[:4]
    ingest_usage(session, clock, jobs[1:])
    post_all(session, clock)
    assert ratings(session)[("aisc", "4")] == ("subsidised", 2_800, 1_960, 840)
    ingest_usage(session, clock, jobs[:1])  # job 1 ended first but arrives last
    report = post_all(session, clock)
    assert report.rerated >= 1
    assert report.reversals == report.rerated
    late = ratings(session)
    ordered_world = late  # compare with the in-order figures of the golden month
    assert ordered_world[("aisc", "1")] == ("subsidised", 22_400, 15_680, 6_720)
    assert ordered_world[("aisc", "3")] == ("over_cap", 22_400, 14_720, 7_680)
    assert ordered_world[("aisc", "4")] == ("over_cap", 2_800, 0, 2_800)
    assert unbalanced_journals(session) == []


def test_a_corrected_record_reverses_the_old_rating(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    first = s.job(50, "aiss-b", end=datetime(2026, 10, 10, tzinfo=UTC), gpus=8, seconds=3600)
    ingest_usage(session, clock, [first])
    post_all(session, clock)
    corrected = s.job(
        50, "aiss-b", end=first.end_time, gpus=8, seconds=1800, submit=first.submit_time
    )
    report = ingest_usage(session, clock, [corrected])
    assert report.new == 1
    posted = post_all(session, clock)
    assert posted.reversals == 1
    assert ratings(session)[("aisc", "50")] == ("subsidised", 11_200, 10_080, 1_120)
    assert balance_map(session)["revenue:gpu"] == -11_200
    # The old version sent again changes nothing.
    assert ingest_usage(session, clock, [first]).new == 0
    assert post_all(session, clock).records == 0


def test_a_correction_that_leaves_the_cap_gives_later_records_their_subsidy_back(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    jobs = world.october()[:4]
    ingest_usage(session, clock, jobs)
    post_all(session, clock)
    assert ratings(session)[("aisc", "3")][0] == "over_cap"
    # Job 1 turns out to have died with its node: no longer on the cap, nothing new on it.
    first = jobs[0]
    corrected = s.job(
        1,
        "aiss-a",
        end=first.end_time,
        gpus=8,
        seconds=3600,
        submit=first.submit_time,
        state=JobState.NODE_FAIL,
        chargeable=False,
    )
    assert ingest_usage(session, clock, [corrected]).new == 1
    posted = post_all(session, clock)
    assert posted.rerated == 2
    r = ratings(session)
    assert r[("aisc", "1")] == ("credited", 0, 0, 0)
    assert r[("aisc", "3")] == ("subsidised", 22_400, 15_680, 6_720)
    assert r[("aisc", "4")] == ("subsidised", 2_800, 1_960, 840)
    assert unbalanced_journals(session) == []


def test_node_failures_are_credited_not_charged(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    ingest_usage(session, clock, [world.october()[4]])
    post_all(session, clock)
    assert ratings(session)[("aisc", "5")] == ("credited", 0, 0, 0)
    credited = session.scalar(select(func.sum(UsageCharge.credited_minor)))
    assert credited == 11_200
    assert session.scalar(select(func.count()).select_from(Posting)) == 0


def test_refuse_terms_refuse_usage_beyond_the_cap(session: Session, clock: ManualClock) -> None:
    sch = s.scheme(session, clock)
    org = s.organisation(session, clock, "Gamma", None)
    s.award(session, clock, sch, org, "aiss-g", cap_minor=20_000, policy=OverCapPolicy.REFUSE)
    s.prices(session, clock)
    clock.set(NOW)
    end = datetime(2026, 10, 3, tzinfo=UTC)
    ingest_usage(
        session, clock, [s.job(i, "aiss-g", end=end + timedelta(hours=i)) for i in range(1, 4)]
    )
    post_all(session, clock)
    r = ratings(session)
    assert r[("aisc", "1")] == ("subsidised", 22_400, 15_680, 6_720)
    assert r[("aisc", "2")] == ("refused", 0, 0, 0)
    assert r[("aisc", "3")] == ("refused", 0, 0, 0)


def test_a_second_post_writes_nothing(session: Session, clock: ManualClock, world: s.World) -> None:
    ingest_usage(session, clock, world.october())
    post_all(session, clock)
    before = session.scalar(select(func.count()).select_from(UsageCharge))
    assert ingest_usage(session, clock, world.october()).new == 0
    assert post_all(session, clock).records == 0
    assert session.scalar(select(func.count()).select_from(UsageCharge)) == before


def _outcome(session: Session, clock: ManualClock) -> tuple[object, ...]:
    close_period(session, clock, "2026-10", issue_date=datetime(2026, 11, 1, tzinfo=UTC))
    docs = session.scalars(select(BillingDocument).order_by(BillingDocument.number)).all()
    return (ratings(session), balance_map(session), [document_csv(d) for d in docs])


def _records(world: s.World) -> list[AccountingRecord]:
    extra = [
        s.job(
            100 + i,
            "aiss-a",
            end=datetime(2026, 10, 2 + i % 15, 3 + i, tzinfo=UTC),
            gpus=1 + i % 8,
            seconds=600 * (1 + i),
        )
        for i in range(8)
    ]
    return world.october() + extra


_EXPECTED: WeakKeyDictionary[s.World, tuple[object, ...]] = WeakKeyDictionary()
"""The reference books per world: Hypothesis reuses the function-scoped world across examples."""


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_batches_in_any_order_give_the_same_books(
    session: Session, clock: ManualClock, world: s.World, data: st.DataObject
) -> None:
    """Same records, any number of times, in batches of any order → same ledger and invoices."""
    records = _records(world)
    expected = _EXPECTED.get(world)
    if expected is None:
        with session.begin_nested() as reference:
            ingest_usage(session, clock, records)
            post_all(session, clock)
            expected = _outcome(session, clock)
            reference.rollback()
        _EXPECTED[world] = expected
    stream = data.draw(
        st.permutations(records + data.draw(st.lists(st.sampled_from(records), max_size=6)))
    )
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=4)))
    batch_size = data.draw(st.integers(1, 7))
    with session.begin_nested() as attempt:
        for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            ingest_usage(session, clock, stream[a:b])
            post_all(session, clock, batch_size=batch_size)
        got = _outcome(session, clock)
        assert unbalanced_journals(session) == []
        attempt.rollback()
    assert got == expected


def test_every_journal_balances_and_balances_are_posting_sums(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    ingest_usage(session, clock, _records(world))
    post_all(session, clock, batch_size=3)
    assert unbalanced_journals(session) == []
    sums: dict[str, int] = defaultdict(int)
    from computeport.models.ledger import LedgerAccount

    for code, amount in session.execute(
        select(LedgerAccount.code, Posting.amount_minor).join(
            Posting, Posting.account_id == LedgerAccount.id
        )
    ):
        sums[code] += amount
    assert balance_map(session) == dict(sums)
    assert sum(sums.values()) == 0
    charges = session.execute(
        select(func.sum(UsageCharge.list_minor), func.sum(UsageCharge.copay_minor))
    ).one()
    assert sums["revenue:gpu"] == -charges[0]


def test_a_node_failure_is_credited_even_if_the_back_end_forgot(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    from computeport.backends import JobState

    failed = s.job(60, "aiss-b", end=datetime(2026, 10, 10, tzinfo=UTC), state=JobState.NODE_FAIL)
    assert failed.chargeable
    ingest_usage(session, clock, [failed])
    post_all(session, clock)
    assert ratings(session)[("aisc", "60")] == ("credited", 0, 0, 0)


def test_ratings_and_their_records_cannot_be_edited_or_deleted(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    """What stands in for a foreign key from ratings to records: neither table loses rows."""
    ingest_usage(session, clock, world.october()[:1])
    post_all(session, clock)
    session.flush()
    for statement in (
        "UPDATE usage_charge SET subsidy_minor = 0, copay_minor = list_minor",
        "DELETE FROM usage_charge",
        "DELETE FROM usage_record",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
    assert session.scalar(select(func.count()).select_from(UsageCharge)) == 1
