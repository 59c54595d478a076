"""POST /api/v1/awards/{id}/shares keeps the shrink floor of the deployment's own cluster: the
hours the award's queued and running jobs there reserved (asked of the cluster itself, a real
virtual cluster here) cannot be moved away; the refusal is a 409 problem naming ``hours``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.award.cluster_limits import desired_for_cluster
from computeport.award.shares import RESERVE, committed_hours, move_hours, show_shares
from computeport.backends import AwardState, DesiredState, JobSpec, reconcile
from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.kit.clock import ManualClock
from computeport.models.identity import Role
from computeport.settings import Settings
from tests.api.fixtures import Actors, actors, api_settings, build_api_app, world
from tests.api.permission_suite import assert_problem
from tests.award.share_centre import load_centre
from tests.award.test_shares_api import json_fields
from tests.factories import award as fw

__all__ = ["actors", "api_settings", "world"]


@pytest.fixture
def sim(clock: ManualClock) -> SimBackend:
    """The share centre's ``alpha``, 4 nodes × 8 H800, on the test's clock."""
    return SimBackend(cyberport_inventory(4, cluster="alpha"), clock)


@pytest.fixture
def client(
    session: Session, db_engine: Engine, clock: ManualClock, api_settings: Settings, sim: SimBackend
) -> Iterator[TestClient]:
    with TestClient(build_api_app(session, db_engine, clock, api_settings, sim)) as test_client:
        yield test_client


def test_the_hours_of_queued_and_running_jobs_stay_on_the_cluster(
    session: Session, clock: ManualClock, sim: SimBackend, client: TestClient, actors: Actors
) -> None:
    load_centre(session, clock)
    award = fw.approved_award(session, clock, fw.scheme(session), gpu_hours=1_000)
    move_hours(
        session, award.id, source=RESERVE, target="alpha", hours=100, reason="place",
        actor_id=None, clock=clock,
    )  # fmt: skip
    session.flush()
    (allocation,) = desired_for_cluster(session, clock.now(), "alpha").allocations
    user = "alice"  # a member of the award's team on the cluster
    running = replace(allocation, members=frozenset({user}), state=AwardState.ACTIVE)
    reconcile(sim, DesiredState((running,)))
    for _ in range(2):  # 8 GPUs × 2 h each = 32 GPU-hours reserved
        sim.submit(JobSpec(award.slurm_account, user, "#!/bin/sh\n", 8, 120))
    assert committed_hours(sim.jobs(account=award.slurm_account)) == 32

    operator = actors.staff(Role.OPERATOR)
    path = f"/api/v1/awards/{award.id}/shares"
    move = {"from": "alpha", "to": "reserve", "reason": "rebalance"}
    refused = client.post(path, json=move | {"hours": 69}, headers=operator.headers)
    assert "hours" in json_fields(assert_problem(refused, 409))
    assert show_shares(session, award.id).lines[0].shares == {"alpha": 100}
    moved = client.post(path, json=move | {"hours": 68}, headers=operator.headers)
    assert moved.status_code == 201, moved.text
    assert show_shares(session, award.id).lines[0].shares == {"alpha": 32}
