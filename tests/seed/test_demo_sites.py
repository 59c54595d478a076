"""The demo's two sites carry awards: every seeded H800 award is placed on Cyberport (its only
cluster), the demo applicant's award also holds Sandy Ridge's accelerator on Sandy Ridge, and
each cluster's desired state gives those awards a budget to run on (both engines).

Before this, the inventory loaded after the awards left every hour in the reserve, so with
sites on, each cluster held every award at a limit of 0 GPU-minutes.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.cluster_limits import desired_for_cluster
from computeport.award.shares import show_shares
from computeport.award.workflow import OPEN_STATES
from computeport.kit.clock import ManualClock
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.seed.cyberport import seed_cyberport
from computeport.seed.demo import DEMO_ORGANISATION
from computeport.seed.demo_centre import SANDY_RIDGE_AFTER, SANDY_RIDGE_HOURS, seed_demo_centre
from computeport.seed.demo_history import seed_demo_history

NOW = datetime(2026, 12, 5, 2, tzinfo=UTC)


def _seed(session: Session) -> ManualClock:
    clock = ManualClock(NOW)
    seed_cyberport(session)
    seed_demo_centre(session, clock)
    seed_demo_history(session, dt.date(2026, 12, 5))
    return clock


def test_every_open_award_is_placed_and_one_spans_both_sites(session: Session) -> None:
    _seed(session)
    awards = session.scalars(select(Award).where(Award.status.in_(OPEN_STATES))).all()
    assert awards
    for award in awards:
        for line in show_shares(session, award.id).lines:
            # The history's awards were decided after the inventory: placed by the decision.
            assert line.reserve == 0, (award.reference, line)
            assert sum(line.shares.values()) == line.gpu_hours
    demo = session.scalars(
        select(Award)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Organisation.name == DEMO_ORGANISATION, Award.status.in_(OPEN_STATES))
    ).one()
    lines = {ln.accelerator_type: ln for ln in show_shares(session, demo.id).lines}
    assert lines["cn-accel-a"].shares == {"sandy-ridge-a": SANDY_RIDGE_HOURS}
    assert set(lines["h800"].shares) == {"cyberport-h800"}


def test_both_clusters_give_the_demo_award_a_budget_once_sandy_ridge_opens(
    session: Session,
) -> None:
    _seed(session)
    account = session.scalars(
        select(Award.slurm_account)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Organisation.name == DEMO_ORGANISATION, Award.status.in_(OPEN_STATES))
    ).one()
    opened = NOW + SANDY_RIDGE_AFTER + timedelta(days=1)
    for cluster in ("cyberport-h800", "sandy-ridge-a"):
        limits = {
            a.account_name: a.gpu_minutes
            for a in desired_for_cluster(session, opened, cluster).allocations
        }
        assert limits.get(account, 0) > 0, cluster
    cyberport = desired_for_cluster(session, NOW, "cyberport-h800").allocations
    assert all(a.gpu_minutes > 0 for a in cyberport)  # no award left at a limit of 0


def test_seeding_twice_places_nothing_twice(session: Session) -> None:
    clock = _seed(session)
    assert seed_demo_centre(session, clock) == 0
