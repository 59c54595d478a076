"""The read API's row-based award presenter shows exactly what the ORM-based one shows.

``GET /awards`` and ``GET /awards/{id}`` build their responses from Core rows
(:func:`award_reads_of_rows`), while the write endpoints still present the ORM award
(:func:`award_read`); the tranche state rule exists in both, so both are compared here through
every state a tranche can be in (released, pending, held by an overdue report).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from computeport.award.errors import AwardNotFound
from computeport.award.presenters import AWARD_READS, award_read, award_reads_of_rows
from computeport.award.repository import list_awards, readable_row, readable_rows
from computeport.identity.subject import Subject
from computeport.kit.clock import ManualClock
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Role
from computeport.progress.service import (
    ReportIn,
    ReviewIn,
    reports_of,
    review_report,
    submit_report,
)
from tests.factories import award as fw
from tests.factories import identity as identity_factory

REPORT = ReportIn(models_released=1, papers=0, products=0, jobs_created=1, narrative="v1.")


def _award(session: Session, clock: ManualClock) -> Award:
    scheme = fw.scheme(session)
    org = identity_factory.organisation(session)
    fw.org_admin(session, org)
    return fw.approved_award(
        session,
        clock,
        scheme,
        organisation=org,
        gpu_hours=10_001,
        tranche_shares_bp=[3334, 3333, 3333],
        report_every_months=3,
    )


def _both(session: Session, award: Award, clock: ManualClock) -> tuple[str, str]:
    session.flush()
    subject = Subject(uuid.uuid4(), "officer@example.org", staff_roles=frozenset({Role.OPERATOR}))
    row = readable_row(session, subject, award.id)
    from_rows = AWARD_READS.dump_json(award_reads_of_rows(session, [row], clock.now()))
    from_orm = AWARD_READS.dump_json([award_read(session, award, clock.now())])
    return from_rows.decode(), from_orm.decode()


def test_every_tranche_state_matches_the_orm_presenter(
    session: Session, clock: ManualClock
) -> None:
    award = _award(session, clock)
    rows, orm = _both(session, award, clock)
    assert rows == orm
    assert '"state":"released"' in rows
    assert '"state":"pending"' in rows

    first, _second = reports_of(session, award.id)[:2]
    submit_report(session, first.id, REPORT, None, clock)
    review_report(session, first.id, ReviewIn(outcome="accept"), None, clock)
    clock.set(_second.due_at)  # the second report is now overdue: its tranche is held
    rows, orm = _both(session, award, clock)
    assert rows == orm
    assert rows.count('"state":"released"') == 2
    assert '"state":"held"' in rows


def test_the_list_keeps_the_orm_order_and_scope(session: Session, clock: ManualClock) -> None:
    awards = [_award(session, clock) for _ in range(3)]
    session.flush()
    staff = Subject(uuid.uuid4(), "officer@example.org", staff_roles=frozenset({Role.OPERATOR}))
    listed = readable_rows(session, staff, limit=1000)
    assert {r.id for r in listed} >= {a.id for a in awards}
    own = awards[0].organisation_id
    member = Subject(
        uuid.uuid4(), "admin@example.org", organisation_roles={own: frozenset({Role.ORG_ADMIN})}
    )
    assert [r.id for r in readable_rows(session, member)] == [awards[0].id]
    assert readable_row(session, member, awards[0].id).id == awards[0].id
    with pytest.raises(AwardNotFound):  # another organisation's award: not found, not 403
        readable_row(session, member, awards[1].id)


def test_the_list_filters_and_pages_like_the_orm_query(
    session: Session, clock: ManualClock
) -> None:
    awards = [_award(session, clock) for _ in range(3)]
    awards[1].status = AwardStatus.SUSPENDED
    session.flush()
    staff = Subject(uuid.uuid4(), "officer@example.org", staff_roles=frozenset({Role.OPERATOR}))
    for filters in (
        {},
        {"status": AwardStatus.SUSPENDED},
        {"organisation_id": awards[2].organisation_id},
        {"status": AwardStatus.ACTIVE, "organisation_id": awards[1].organisation_id},
        {"limit": 2},
        {"limit": 2, "offset": 1},
    ):
        expected = [a.id for a in list_awards(session, staff, **filters)]
        assert [r.id for r in readable_rows(session, staff, **filters)] == expected, filters
    suspended = readable_rows(session, staff, status=AwardStatus.SUSPENDED, limit=1000)
    assert awards[1].id in {r.id for r in suspended}
    assert awards[0].id not in {r.id for r in suspended}
