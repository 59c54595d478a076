"""The jobs API: permissions (the inheritable suite) and behaviour on the virtual cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from computeport.backends import JobSpec
from computeport.backends.sim import SimBackend
from computeport.models.award import AwardStatus
from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.jobs.builders import Awarded, awarded, job_body


class TestJobsPermissions(PermissionSuite):
    cases = ("submit", "list", "get", "cancel", "nodes", "partitions")

    @pytest.fixture(autouse=True)
    def _cluster(self, sim: SimBackend) -> None:
        self.sim = sim

    def build(self, name: str, world: World) -> Case:
        a = awarded(world, self.sim)
        stranger = world.actors.applicant()
        if name == "submit":
            return Case(
                "POST",
                "/api/v1/jobs",
                allowed=a.owner,
                json=job_body(a.award),
                expect=201,
                wrong_role=world.actors.staff(Role.FUNDER),
                other_org=stranger,
            )
        if name == "list":
            return Case(
                "GET",
                "/api/v1/jobs",
                allowed=a.owner,
                wrong_role=world.actors.staff(Role.REVIEWER),
            )
        job_id = self.sim.submit(_spec(a))
        if name == "get":
            return Case(
                "GET",
                f"/api/v1/jobs/{job_id}",
                allowed=a.owner,
                wrong_role=world.actors.staff(Role.REVIEWER),
                other_org=stranger,
            )
        if name == "cancel":
            return Case(
                "POST",
                f"/api/v1/jobs/{job_id}/cancel",
                allowed=a.owner,
                wrong_role=world.actors.staff(Role.FUNDER),
                other_org=stranger,
            )
        return Case(
            "GET",
            f"/api/v1/cluster/{name}",
            allowed=world.actors.staff(Role.OPERATOR),
            wrong_role=a.owner,
        )


def _spec(a: Awarded) -> JobSpec:
    return JobSpec(
        a.award.slurm_account,
        a.owner.user.posix_username,
        "#!/bin/sh\n",
        8,
        60,
        expected_run_seconds=600,
    )


def test_a_job_runs_on_the_award_and_finishes_as_time_passes(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    a = awarded(world, sim)
    response = client.post("/api/v1/jobs", json=job_body(a.award), headers=a.owner.headers)
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["account"], job["user"]) == (a.award.slurm_account, a.owner.user.posix_username)
    assert (job["state"], job["award_reference"], len(job["nodes"])) == (
        "RUNNING",
        a.award.reference,
        1,
    )
    world.clock.advance(timedelta(minutes=31))
    done = client.get(f"/api/v1/jobs/{job['job_id']}", headers=a.owner.headers).json()
    assert done["state"] == "COMPLETED"
    assert done["end_time"] is not None


def test_a_job_over_the_budget_shows_the_schedulers_reason(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    a = awarded(world, sim, gpu_hours=4)  # 240 GPU-minutes; 8 GPUs × 60 min would need 480
    response = client.post("/api/v1/jobs", json=job_body(a.award), headers=a.owner.headers)
    assert response.status_code == 201, response.text
    job = client.get(f"/api/v1/jobs/{response.json()['job_id']}", headers=a.owner.headers).json()
    assert (job["state"], job["reason"], job["pending_reason"]) == (
        "PENDING",
        "QOSGrpGRESMinutes",
        "budget",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gpus": 64}, "gpus"),
        ({"gpus": 0}, "gpus"),
        ({"partition": "nope"}, "partition"),
        ({"gpu_type": "mi300x"}, "gpu_type"),
        ({"time_limit_minutes": 0}, "time_limit_minutes"),
        ({"time_limit_minutes": 30 * 24 * 60}, "time_limit_minutes"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    client: TestClient, world: World, sim: SimBackend, change: dict[str, object], field: str
) -> None:
    a = awarded(world, sim)
    response = client.post(
        "/api/v1/jobs", json=job_body(a.award, **change), headers=a.owner.headers
    )
    body = assert_problem(response, 422)
    assert field in {e["field"].split(".")[-1] for e in body["errors"]}
    assert sim.jobs() == []


@pytest.mark.parametrize("status", [AwardStatus.SUSPENDED, AwardStatus.EXPIRED])
def test_an_award_that_is_not_active_is_409(
    client: TestClient, world: World, sim: SimBackend, status: AwardStatus
) -> None:
    a = awarded(world, sim, status=status)
    response = client.post("/api/v1/jobs", json=job_body(a.award), headers=a.owner.headers)
    body = assert_problem(response, 409)
    assert body["field"] == "award_id"
    assert status.value in body["detail"]


def test_applicants_see_their_organisations_jobs_and_staff_see_all(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    mine = awarded(world, sim)
    theirs = awarded(world, sim)
    for a in (mine, theirs):
        client.post("/api/v1/jobs", json=job_body(a.award), headers=a.owner.headers)
    seen = client.get("/api/v1/jobs", headers=mine.owner.headers).json()
    assert {j["account"] for j in seen} == {mine.award.slurm_account}
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    everything = client.get("/api/v1/jobs", headers=officer.headers).json()
    assert {j["account"] for j in everything} == {
        mine.award.slurm_account,
        theirs.award.slurm_account,
    }
    by_award = client.get(
        "/api/v1/jobs", params={"award_id": str(theirs.award.id)}, headers=officer.headers
    ).json()
    assert {j["account"] for j in by_award} == {theirs.award.slurm_account}


def test_a_member_cancels_a_waiting_job(client: TestClient, world: World, sim: SimBackend) -> None:
    a = awarded(world, sim, role=Role.MEMBER)
    ids = [
        client.post(
            "/api/v1/jobs", json=job_body(a.award, gpus=32), headers=a.owner.headers
        ).json()["job_id"]
        for _ in range(2)
    ]
    assert client.get(f"/api/v1/jobs/{ids[1]}", headers=a.owner.headers).json()["state"] == (
        "PENDING"
    )
    cancelled = client.post(f"/api/v1/jobs/{ids[1]}/cancel", headers=a.owner.headers).json()
    assert cancelled["state"] == "CANCELLED"


def test_operators_see_nodes_and_partitions(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    a = awarded(world, sim)
    client.post("/api/v1/jobs", json=job_body(a.award), headers=a.owner.headers)
    operator = world.actors.staff(Role.OPERATOR)
    nodes = client.get("/api/v1/cluster/nodes", headers=operator.headers).json()
    assert len(nodes) == 4
    assert sum(n["gpus_used"] for n in nodes) == 8
    parts = {
        p["name"]: p
        for p in client.get("/api/v1/cluster/partitions", headers=operator.headers).json()
    }
    assert set(parts) == {"gpu", "scavenger"}
    assert (parts["gpu"]["gpus"], parts["gpu"]["gpus_used"], parts["gpu"]["default"]) == (
        32,
        8,
        True,
    )
