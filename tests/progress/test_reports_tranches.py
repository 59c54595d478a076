"""Progress reports release tranches; an overdue report holds the next one; reminders go once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.kit.errors import IllegalTransition
from computeport.models.award import Award
from computeport.models.notification import OutboxMessage
from computeport.models.progress import ReportStatus
from computeport.progress.schedule import add_months, report_due_dates
from computeport.progress.service import (
    ReportIn,
    ReviewIn,
    reports_of,
    review_report,
    send_reminders,
    submit_report,
)
from computeport.progress.tranches import (
    TrancheState,
    released_gpu_hours,
    released_gpu_hours_by_line,
    tranche_state,
    tranches_of,
)
from tests.factories import award as fw
from tests.factories import identity as identity_factory


def _award(session: Session, clock: ManualClock) -> Award:
    scheme = fw.scheme(session)
    org = identity_factory.organisation(session)
    fw.org_admin(session, org)
    return fw.approved_award(
        session,
        clock,
        scheme,
        organisation=org,
        gpu_hours=10_000,
        tranche_shares_bp=[5000, 5000],
        report_every_months=6,
    )


REPORT = ReportIn(models_released=1, papers=2, products=0, jobs_created=5, narrative="Trained v1.")


class TestTranches:
    def test_half_at_award_half_after_the_accepted_report(
        self, session: Session, clock: ManualClock
    ) -> None:
        award = _award(session, clock)
        assert released_gpu_hours(session, award) == {"h800": 5_000}
        first = reports_of(session, award.id)[0]
        submit_report(session, first.id, REPORT, None, clock)
        assert released_gpu_hours(session, award) == {"h800": 5_000}
        review_report(session, first.id, ReviewIn(outcome="accept"), None, clock)
        assert first.status is ReportStatus.ACCEPTED
        assert released_gpu_hours(session, award) == {"h800": 10_000}

    def test_a_queried_report_releases_nothing_until_accepted(
        self, session: Session, clock: ManualClock
    ) -> None:
        award = _award(session, clock)
        first = reports_of(session, award.id)[0]
        submit_report(session, first.id, REPORT, None, clock)
        with pytest.raises(IllegalTransition):  # a query needs a note
            review_report(session, first.id, ReviewIn(outcome="query"), None, clock)
        review_report(
            session, first.id, ReviewIn(outcome="query", note="which model?"), None, clock
        )
        assert released_gpu_hours(session, award) == {"h800": 5_000}
        submit_report(session, first.id, REPORT, None, clock)
        review_report(session, first.id, ReviewIn(outcome="accept"), None, clock)
        assert released_gpu_hours(session, award) == {"h800": 10_000}

    def test_an_overdue_report_holds_the_next_tranche(
        self, session: Session, clock: ManualClock
    ) -> None:
        award = _award(session, clock)
        first = reports_of(session, award.id)[0]
        gated = tranches_of(session, award)[1]
        assert tranche_state(gated, first, clock.now()) is TrancheState.PENDING
        clock.set(first.due_at)
        assert tranche_state(gated, first, clock.now()) is TrancheState.HELD
        assert released_gpu_hours(session, award) == {"h800": 5_000}

    def test_cannot_accept_a_report_never_filed(self, session: Session, clock: ManualClock) -> None:
        award = _award(session, clock)
        first = reports_of(session, award.id)[0]
        with pytest.raises(IllegalTransition):
            review_report(session, first.id, ReviewIn(outcome="accept"), None, clock)


@given(
    hours=st.dictionaries(st.sampled_from(["h800", "h100", "a100"]), st.integers(1, 10**9)),
    shares=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    released=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_released_hours_add_up_exactly(
    hours: dict[str, int], shares: list[int], released: list[bool]
) -> None:
    flags = released[: len(shares)]
    everything = released_gpu_hours_by_line(hours, shares, [True] * len(shares))
    nothing = released_gpu_hours_by_line(hours, shares, [False] * len(shares))
    some = released_gpu_hours_by_line(hours, shares, flags)
    rest = released_gpu_hours_by_line(hours, shares, [not f for f in flags])
    assert everything == hours
    assert all(v == 0 for v in nothing.values())
    assert {k: some[k] + rest[k] for k in hours} == hours


class TestSchedule:
    def test_month_arithmetic_clamps_to_the_month_end(self) -> None:
        start = fw.START.replace(month=8, day=31)
        assert add_months(start, 6).day == 28  # 2027-02-28

    def test_due_dates_before_the_end_plus_a_final_report(self) -> None:
        end = add_months(fw.START, 12)
        dates = report_due_dates(fw.START, end, 4)
        assert dates == [add_months(fw.START, 4), add_months(fw.START, 8), end]


class TestReminders:
    def test_due_then_overdue_each_sent_once(self, session: Session, clock: ManualClock) -> None:
        award = _award(session, clock)
        first = reports_of(session, award.id)[0]
        clock.set(first.due_at - timedelta(days=20))
        assert send_reminders(session, clock).reports_due == 0
        clock.set(first.due_at - timedelta(days=10))
        assert send_reminders(session, clock).reports_due == 1
        assert send_reminders(session, clock).reports_due == 0  # idempotent
        clock.set(first.due_at + timedelta(days=1))
        result = send_reminders(session, clock)
        assert (result.reports_due, result.reports_overdue) == (0, 1)
        subjects = [m.subject for m in session.scalars(select(OutboxMessage)).all()]
        assert any("is overdue" in s for s in subjects)

    def test_award_expiring_sent_once_per_end_date(
        self, session: Session, clock: ManualClock
    ) -> None:
        award = _award(session, clock)
        clock.set(award.ends_at - timedelta(days=29))
        assert send_reminders(session, clock).awards_expiring == 1
        assert send_reminders(session, clock).awards_expiring == 0
        mails = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "award_expiring")
        ).all()
        assert len(mails) == 1
        assert "29 days" in mails[0].body
