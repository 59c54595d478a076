"""A centre's history from the database: usage by award and month, tranches, applications."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from computeport.capacity.calendar import Month
from computeport.capacity.flows import FlowParams
from computeport.capacity.history import fit_flows
from computeport.capacity.history_source import history_from_db
from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.rollup import UsageRollup
from tests.capacity.conftest import small_scenario
from tests.factories import award as fw


def test_history_reads_usage_by_award_and_complete_months(session: Session) -> None:
    scheme = fw.scheme(session)
    clock = ManualClock(datetime(2025, 11, 20, tzinfo=UTC))
    award = fw.approved_award(
        session,
        clock,
        scheme,
        gpu_hours=120_000,
        months=12,
        starts_at=datetime(2025, 12, 1, tzinfo=UTC),
        tranche_shares_bp=[5_000, 5_000],
    )
    approved = session.get(Application, award.application_id)
    assert approved is not None
    approved.submitted_at = datetime(2025, 9, 20, tzinfo=UTC)  # the factory decides directly
    waiting = fw.application(session, scheme, status=ApplicationStatus.UNDER_REVIEW)
    waiting.submitted_at = datetime(2026, 2, 2, tzinfo=UTC)
    fw.application(session, scheme, status=ApplicationStatus.DRAFT)
    for period, hours in (("2026-01", 5_000), ("2026-02", 9_000), ("2026-03", 10_000)):
        session.add(
            UsageRollup(
                period=period,
                organisation_id=award.organisation_id,
                award_id=award.id,
                qos="normal",
                accelerator_type="h800",
                gpu_seconds=hours * 3600,
            )
        )
    session.flush()

    history = history_from_db(session, small_scenario(), dt.date(2026, 5, 10))

    # January may be cut short (the first month with usage), May is not over: left out;
    # April had no usage and is a month of the history all the same.
    assert [m.label for m in history.months] == ["2026-02", "2026-03", "2026-04"]
    assert history.used("2026-03") == 10_000.0
    assert history.used("2026-04") == 0.0
    [hist] = [a for a in history.awards if a.name == award.reference]
    assert hist.gpu_hours == 120_000.0
    assert hist.usage["2026-01"] == 5_000.0
    # half released at the decision, half held for the first progress report
    assert hist.usable(dt.date(2025, 11, 1)) == 0.0
    assert hist.usable(dt.date(2026, 4, 1)) == 60_000.0
    [pending] = [a for a in history.applications if a.decided is None]
    assert pending.submitted == dt.date(2026, 2, 2)
    assert len(history.applications) == 2  # the approved one and the one waiting; no draft
    [decided] = [a for a in history.applications if a.decided is not None]
    assert decided.approved
    assert decided.decided == dt.date(2025, 11, 20)
    assert history.capacity_gpu_hours["2026-03"] == 64 * 31 * 24

    fitted = fit_flows(history, Month(0, dt.date(2026, 4, 1)), FlowParams())
    [committed] = [a for a in fitted.awards if a.name == award.reference]
    assert committed.used_gpu_hours == 24_000.0  # every hour before April, January's too
    assert committed.gpu_hours == 60_000.0  # only the released tranche burns
    assert [p.name for p in fitted.pipeline] == [waiting.reference]
