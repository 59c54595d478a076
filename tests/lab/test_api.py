"""/api/v1/lab/studies: ask "reserve 25% for government" of a small cluster's own history."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from computeport.backends import JobSpec
from computeport.backends.sim import SimBackend
from computeport.models.application import ApplicationStatus
from computeport.models.identity import Organisation, OrganisationCategory, Role
from computeport.models.lab import LabStudy, LabStudyRow
from tests.api.fixtures import World
from tests.api.permission_suite import assert_problem
from tests.factories import application as application_factory
from tests.factories.jobs import Awarded, awarded


def _history(world: World, sim: SimBackend) -> tuple[Awarded, Awarded]:
    """A government award and an enterprise award, each with jobs that queue on 16 GPUs."""
    gov = awarded(world, sim)
    org = world.session.get(Organisation, gov.award.organisation_id)
    assert org is not None
    org.category = OrganisationCategory.GOVERNMENT
    firm = awarded(world, sim)
    for a, gpus in ((firm, 16), (gov, 8), (firm, 8), (gov, 8)):
        user = a.owner.user.posix_username
        sim.submit(
            JobSpec(a.award.slurm_account, user, "#!/bin/sh\n", gpus, 60, expected_run_seconds=1800)
        )
        world.clock.advance(timedelta(minutes=5))
    world.clock.advance(timedelta(hours=3))
    sim.advance()
    return gov, firm


def _window(world: World) -> dict[str, object]:
    today = world.clock.now().date()
    return {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}


def test_an_operator_asks_and_reads_the_answer(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    _history(world, sim)
    operator = world.actors.staff(Role.OPERATOR)
    body = {**_window(world), "changes": ["reserve=government:50"]}
    response = client.post("/api/v1/lab/studies", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    study = response.json()
    result = study["result"]
    assert [s["name"] for s in result["scenarios"]] == ["baseline", "reserve=government:50"]
    fidelity = result["baseline_fidelity"]
    assert fidelity["compared"] == 4
    assert fidelity["exact"] == 4
    base, reserved = result["scenarios"]
    waits = {g["group"]: g["wait_mean_s"] for g in reserved["by_category"]}
    before = {g["group"]: g["wait_mean_s"] for g in base["by_category"]}
    assert waits["government"] <= before["government"]
    assert waits["enterprise"] >= before["enterprise"]

    listed = client.get("/api/v1/lab/studies", headers=operator.headers).json()
    assert [s["id"] for s in listed] == [study["id"]]
    table = client.get(f"/api/v1/lab/studies/{study['id']}/table.csv", headers=operator.headers)
    assert table.status_code == 200
    assert table.text.splitlines()[0].startswith("scenario,grouping,group,jobs")
    assert "reserve=government:50,category,government" in table.text


def test_a_bad_question_is_a_422_naming_the_change_and_saves_nothing(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    _history(world, sim)
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    for changes, words in (
        (["reserve=army:10"], "unknown category 'army'"),
        (["nodes=-2"], "--change nodes"),
        (["colour=blue"], "unknown key"),
    ):
        body = {**_window(world), "changes": changes}
        problem = assert_problem(
            client.post("/api/v1/lab/studies", json=body, headers=officer.headers), 422
        )
        assert words in problem["detail"]
    empty = {"from": "2020-01-01", "to": "2020-02-01", "changes": []}
    problem = assert_problem(
        client.post("/api/v1/lab/studies", json=empty, headers=officer.headers), 422
    )
    assert "no jobs" in problem["detail"]
    bad_policy = {**_window(world), "policy": 'order = "fifo"\ncolour = "blue"\n'}
    problem = assert_problem(
        client.post("/api/v1/lab/studies", json=bad_policy, headers=officer.headers), 422
    )
    assert "line 2" in problem["detail"]
    assert world.session.scalar(select(func.count()).select_from(LabStudy)) == 0
    assert world.session.scalar(select(func.count()).select_from(LabStudyRow)) == 0


def test_applicants_and_funders_may_not_ask(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    gov, _firm = _history(world, sim)
    for actor in (gov.owner, world.actors.staff(Role.FUNDER)):
        response = client.post("/api/v1/lab/studies", json=_window(world), headers=actor.headers)
        assert_problem(response, 403)


def test_a_pending_application_is_replayed_as_if_approved(
    client: TestClient, world: World, sim: SimBackend
) -> None:
    _history(world, sim)
    pending = application_factory.application(
        world.session, status=ApplicationStatus.UNDER_REVIEW, at=world.clock.now()
    )
    operator = world.actors.staff(Role.OPERATOR)
    too_big = {**_window(world), "changes": [f"add={pending.reference}"]}  # 64 GPUs on 16
    problem = assert_problem(
        client.post("/api/v1/lab/studies", json=too_big, headers=operator.headers), 422
    )
    assert "asks for 64 GPUs at once" in problem["detail"]
    body = {**_window(world), "changes": [f"nodes=+6,add={pending.reference}"]}
    response = client.post("/api/v1/lab/studies", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    approved = response.json()["result"]["scenarios"][1]
    added = [g for g in approved["by_category"] if g["group"] == "pending"]
    assert added[0]["jobs"] == 1  # one job a day of the requested GPUs
    missing = {**_window(world), "changes": ["add=AISS-1999-0001"]}
    problem = assert_problem(
        client.post("/api/v1/lab/studies", json=missing, headers=operator.headers), 422
    )
    assert "no pending application 'AISS-1999-0001'" in problem["detail"]
