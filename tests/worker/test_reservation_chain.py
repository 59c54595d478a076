"""The reservation chain end to end through the worker's duties, on the virtual cluster:

book → reconcile (the cluster withholds the nodes) → only the award's job runs on them → the
window ends → the ingest duty stores the job and the top-up → posting rates both.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from computeport.award.desired import desired_state
from computeport.award.reservations import Capacity, ReservationIn, book_reservation
from computeport.backends import AwardAllocation, DesiredState, JobSpec, JobState
from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.billing.posting import post_all
from computeport.db.engine import make_session_factory, unit_of_work
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import BillingUsageSink
from computeport.models.award import AwardLine
from computeport.models.identity import Role
from computeport.models.metering import UsageCharge, UsageRecord
from computeport.worker.duties import AdvanceCluster, IngestUsage, PostUsage, ReconcileAwards
from tests.billing import support
from tests.factories import identity as identity_factory

T0 = support.T0
H = timedelta(hours=1)


def test_a_booked_reservation_is_provisioned_honoured_and_charged_once(
    committed_engine: Engine,
) -> None:
    sessions = make_session_factory(committed_engine)
    clock = ManualClock(T0)
    backend = SimBackend(cyberport_inventory(2, cluster="wres"), clock, epoch=T0)
    with unit_of_work(sessions) as session:
        sch = support.scheme(session, clock)
        org = support.organisation(session, clock, "Org R")
        other_org = support.organisation(session, clock, "Org S")
        award = support.award(session, clock, sch, org, "aw_resv", ends=T0 + timedelta(days=5))
        other = support.award(session, clock, sch, other_org, "aw_other", ends=T0 + 5 * H * 24)
        award.charge_reservations = True
        for a in (award, other):
            session.add(AwardLine(award_id=a.id, accelerator_type="h800", gpu_hours=10_000))
        mine = identity_factory.user(session, roles=(Role.MEMBER,), organisation=org)
        theirs = identity_factory.user(session, roles=(Role.MEMBER,), organisation=other_org)
        support.prices(session, clock)
        body = ReservationIn(
            name="wres-run", partition="gpu", nodes=1, starts_at=T0 + H, ends_at=T0 + 3 * H
        )
        book_reservation(session, award.id, body, None, clock, Capacity.from_backend(backend))
        me, them = mine.posix_username, theirs.posix_username

    reconcile = ReconcileAwards(sessions, backend, desired_state)
    assert reconcile.tick(clock.now()) is not None
    assert [r.name for r in backend.book.reservations.values()] == ["cp_wres-run"]

    clock.set(T0 + H)
    theirs_job = backend.submit(JobSpec("aw_other", them, "#!/bin/sh\n", 16, 60))
    mine_job = backend.submit(
        JobSpec("aw_resv", me, "#!/bin/sh\n", 8, 60, expected_run_seconds=1800)
    )
    clock.advance(timedelta(minutes=1))
    assert backend.job(theirs_job).state is JobState.PENDING  # one node is the award's
    assert backend.job(mine_job).state is JobState.RUNNING

    clock.set(T0 + 3 * H + timedelta(minutes=5))
    AdvanceCluster(backend).tick(clock.now())
    ingest = IngestUsage(sessions, backend, clock, BillingUsageSink, first_since=T0)
    assert ingest.tick(clock.now()) == "2 new usage record(s)"  # the job and the top-up
    clock.advance(2 * H)
    # only the other award's job, which started once the window was over; the same top-up
    # again is a duplicate (the .one() below: stored once)
    assert ingest.tick(clock.now()) == "1 new usage record(s)"
    PostUsage(sessions, clock, post_all).tick(clock.now())

    with sessions() as session:
        topup = session.scalars(
            select(UsageRecord).where(UsageRecord.job_id == "resv:wres-run")
        ).one()
        # 8 GPUs × 2 h reserved = 57,600; the award's job used 8 × 1,800 = 14,400 of it
        assert (topup.state, topup.gpu_seconds) == ("RESERVED", 43_200)
        charged = session.scalars(
            select(UsageCharge).where(UsageCharge.job_id == "resv:wres-run")
        ).all()
        # 12 GPU-h × HK$28.00 = HK$336.00, split 70/30
        assert [(c.list_minor, c.subsidy_minor, c.copay_minor) for c in charged] == [
            (33_600, 23_520, 10_080)
        ]


def test_reconcile_leaves_a_desired_state_without_reservations_unchanged() -> None:
    backend = SimBackend(cyberport_inventory(2, cluster="wres2"), ManualClock(T0), epoch=T0)
    desired = DesiredState((AwardAllocation("aw1", "orga", frozenset({"alice"}), 600),))
    backend.apply(backend.plan(desired))
    assert backend.plan(desired).empty
    assert backend.book.reservations == {}
