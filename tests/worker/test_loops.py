"""The worker's loops, ticked by hand on a manual clock: no threads, no sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.desired import desired_state
from computeport.backends import AccountingRecord, DesiredState, JobRejected, JobSpec, JobState
from computeport.backends.sim import MemoryJournal, SimBackend, cyberport_inventory
from computeport.billing.posting import post_all
from computeport.db.engine import make_session_factory, unit_of_work
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import BillingUsageSink
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Role
from computeport.models.metering import UsageRecord
from computeport.settings import Settings
from computeport.worker import WorkerThread, build_loops
from computeport.worker.duties import (
    AdvanceCluster,
    ExpireAwards,
    IngestUsage,
    PostUsage,
    ReconcileAwards,
)
from computeport.worker.loop import Periodic
from tests.factories import award as fw
from tests.factories import billing as fb
from tests.factories import identity as fi
from tests.factories import identity as identity_factory
from tests.factories import pricing as fp
from tests.factories import scheme as fs

T0 = fb.T0


@dataclass
class Centre:
    sessions: sessionmaker[Session]
    clock: ManualClock
    backend: SimBackend
    account: str
    user: str
    settings: Settings


@pytest.fixture
def centre(committed_engine: Engine) -> Centre:
    """A database (commits are real) with one active award, and a small virtual cluster."""
    sessions = make_session_factory(committed_engine)
    clock = ManualClock(T0)
    with unit_of_work(sessions) as session:
        sch = fs.scheme_row(session, clock)
        org = fi.organisation_row(session, clock, "Org A")
        award = fw.award(session, clock, sch, org, "aw_worker", ends=T0 + timedelta(days=2))
        session.add(award)
        award_line(session, award, gpu_hours=1000)
        member = identity_factory.user(session, roles=(Role.MEMBER,), organisation=org)
        fp.prices(session, clock)
        user = member.posix_username
    backend = SimBackend(cyberport_inventory(4, cluster="wtest"), clock, epoch=T0)
    return Centre(sessions, clock, backend, "aw_worker", user, Settings(database_url="sqlite://"))


def award_line(session: Session, award: Award, gpu_hours: int) -> None:
    from computeport.models.award import AwardLine

    session.add(AwardLine(award_id=award.id, accelerator_type="h800", gpu_hours=gpu_hours))
    session.flush()


class Every(Periodic):
    name = "every"

    def __init__(self, every: timedelta) -> None:
        super().__init__(every)
        self.runs: list[object] = []

    def run(self, now: object) -> str:
        self.runs.append(now)
        return "ran"


def test_a_periodic_loop_runs_at_most_once_per_period() -> None:
    loop = Every(timedelta(hours=1))
    assert loop.tick(T0) == "ran"
    assert loop.tick(T0 + timedelta(minutes=59)) is None
    assert loop.tick(T0 + timedelta(hours=1)) == "ran"
    assert loop.runs == [T0, T0 + timedelta(hours=1)]


def test_awards_reach_the_cluster_jobs_run_and_usage_is_billed_once(centre: Centre) -> None:
    clock = centre.clock
    reconcile = ReconcileAwards(centre.sessions, centre.backend, desired_state)
    assert reconcile.tick(clock.now()) is not None
    assert centre.backend.plan(_desired(centre)).empty
    job_id = centre.backend.submit(
        JobSpec(
            account=centre.account,
            user=centre.user,
            script="#!/bin/sh\n",
            gpus=8,
            time_limit_minutes=60,
            expected_run_seconds=1800,
        )
    )
    clock.advance(timedelta(hours=1))
    advance = AdvanceCluster(centre.backend)
    advance.tick(clock.now())
    assert centre.backend.job(job_id).state is JobState.COMPLETED

    ingest = IngestUsage(
        centre.sessions, centre.backend, clock, BillingUsageSink, first_since=centre.backend.epoch
    )
    assert ingest.tick(clock.now()) == "1 new usage record(s)"
    clock.advance(timedelta(hours=2))
    assert ingest.tick(clock.now()) is None  # nothing new: nothing written twice
    with centre.sessions() as session:
        rows = session.scalars(select(UsageRecord)).all()
    assert [(r.job_id, r.account, r.gpus, r.gpu_seconds) for r in rows] == [
        (job_id, centre.account, 8, 8 * 1800)
    ]
    post = PostUsage(centre.sessions, clock, post_all)
    assert post.tick(clock.now())


def test_an_expired_award_is_paused_on_the_cluster(centre: Centre) -> None:
    clock = centre.clock
    reconcile = ReconcileAwards(centre.sessions, centre.backend, desired_state)
    reconcile.tick(clock.now())
    clock.advance(timedelta(days=3))
    expire = ExpireAwards(centre.sessions, clock)
    assert expire.tick(clock.now()) is not None
    with centre.sessions() as session:
        assert session.scalar(select(Award.status)) is AwardStatus.EXPIRED
    assert reconcile.tick(clock.now()) is not None
    with pytest.raises(JobRejected, match="paused"):
        centre.backend.submit(
            JobSpec(centre.account, centre.user, "#!/bin/sh\n", 8, 60, expected_run_seconds=60)
        )


def test_a_round_runs_every_loop_and_survives_a_failing_one(centre: Centre) -> None:
    class Broken:
        name = "broken"

        def tick(self, now: object) -> str:
            raise RuntimeError("boom")

    worker = WorkerThread([Broken(), AdvanceCluster(centre.backend)], centre.clock)
    centre.clock.advance(timedelta(hours=1))
    result = worker.run_round()
    assert result.failed == {"broken": "RuntimeError: boom"}
    assert "advance-cluster" in result.done
    assert centre.backend.now == T0 + timedelta(hours=1)


def test_the_sim_deployment_gets_the_advance_loop(centre: Centre) -> None:
    @dataclass
    class State:
        settings: Settings
        sessions: sessionmaker[Session]
        clock: ManualClock
        backend: SimBackend | None

    full = build_loops(State(centre.settings, centre.sessions, centre.clock, centre.backend))
    assert [loop.name for loop in full] == [
        "advance-cluster",
        "reconcile-awards",
        "ingest-usage",
        "post-usage",
        "post-token-usage",
        "expire-awards",
    ]
    bare = build_loops(State(centre.settings, centre.sessions, centre.clock, None))
    # no cluster needed
    assert [loop.name for loop in bare] == ["post-usage", "post-token-usage", "expire-awards"]
    with centre.sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 0


def _desired(centre: Centre) -> DesiredState:
    with centre.sessions() as session:
        return desired_state(session, centre.clock.now())


class CountingSource:
    """The cluster's accounting, counting the reads."""

    def __init__(self, backend: SimBackend) -> None:
        self.backend = backend
        self.reads = 0

    @property
    def cluster(self) -> str:
        return self.backend.cluster

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        self.reads += 1
        return self.backend.accounting(since, until)


def test_ingest_reads_the_cluster_once_before_writing_and_loses_nothing(centre: Centre) -> None:
    clock = centre.clock
    ReconcileAwards(centre.sessions, centre.backend, desired_state).tick(clock.now())
    for _ in range(3):  # a job a day for three days: three ingest windows
        centre.backend.submit(
            JobSpec(centre.account, centre.user, "#!/bin/sh\n", 8, 60, expected_run_seconds=600)
        )
        clock.advance(timedelta(days=1))
    source = CountingSource(centre.backend)
    ingest = IngestUsage(
        centre.sessions, source, clock, BillingUsageSink, first_since=centre.backend.epoch
    )
    assert ingest.tick(clock.now()) == "3 new usage record(s)"
    assert source.reads == 1


def test_the_cluster_records_its_position_once_a_simulated_day(centre: Centre) -> None:
    journal = centre.backend.journal
    assert isinstance(journal, MemoryJournal)
    advance = AdvanceCluster(centre.backend)
    positions = []
    for _ in range(5):  # ticks 12 simulated hours apart
        advance.tick(centre.clock.now())
        positions.append(journal.states[centre.backend.cluster].position_s)
        centre.clock.advance(timedelta(hours=12))
    day = 86400
    assert positions == [0, 0, day, day, 2 * day]


def test_an_organisation_given_a_new_parent_moves_on_the_cluster_and_is_audited(
    centre: Centre,
) -> None:
    """Migration 0004's case: the stored name changes once; reconcile moves and audits it."""
    from computeport.audit.service import history
    from computeport.award.cluster_audit import PARENT_MOVED, audit_applied_plan
    from computeport.backends import MoveOrganisation
    from computeport.models.identity import Organisation

    reconcile = ReconcileAwards(
        centre.sessions, centre.backend, desired_state, audit=audit_applied_plan
    )
    reconcile.tick(centre.clock.now())
    with unit_of_work(centre.sessions) as session:
        org = session.scalars(select(Organisation).where(Organisation.name == "Org A")).one()
        old, org_id = org.slurm_account, org.id
        org.slurm_account = "org_a_own_5e6f7a"
    move = MoveOrganisation(old, "org_a_own_5e6f7a", (centre.account,))
    assert move in centre.backend.plan(_desired(centre)).changes  # shown in a dry run

    centre.clock.advance(timedelta(hours=1))
    assert reconcile.tick(centre.clock.now()) is not None
    assert centre.backend.plan(_desired(centre)).empty
    with centre.sessions() as session:
        (moved,) = [h for h in history(session, "organisation", org_id) if h.action == PARENT_MOVED]
    assert moved.reason == move.describe()
