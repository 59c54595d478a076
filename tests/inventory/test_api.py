"""GET /api/v1/sites and /api/v1/clusters: staff read the inventory; applicants may not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.inventory.inventory_files import cyberport_text


def loaded(world: World) -> None:
    decl = parse_inventory(cyberport_text())
    load_inventory(world.session, decl, actor_id=None, at=world.clock.now(), source="c.toml")


class TestInventoryApi(PermissionSuite):
    cases = ("sites", "clusters", "cluster")

    def build(self, name: str, world: World) -> Case:
        loaded(world)
        reviewer = world.actors.staff(Role.REVIEWER)
        applicant = world.actors.applicant()
        path = {
            "sites": "/api/v1/sites",
            "clusters": "/api/v1/clusters",
            "cluster": "/api/v1/clusters/cyberport-h800",
        }[name]
        # An applicant is signed in but no staff: refused (the inventory is the centre's).
        return Case("GET", path, allowed=reviewer, wrong_role=applicant)

    def test_sites_carry_their_totals(self, world: World, client: TestClient) -> None:
        loaded(world)
        funder = world.actors.staff(Role.FUNDER)
        body = client.get("/api/v1/sites", headers=funder.headers).json()
        assert [s["key"] for s in body] == ["cyberport", "sandy-ridge"]
        cyberport = body[0]
        assert (cyberport["name_zh"], cyberport["gpus"], cyberport["pflops"]) == (
            "數碼港",
            3040,
            "3009.6",
        )
        assert body[1]["status"] == "planned"
        assert body[1]["clusters"] == ["sandy-ridge-a"]

    def test_a_cluster_shows_its_back_end_partitions_and_no_secret(
        self, world: World, client: TestClient
    ) -> None:
        loaded(world)
        operator = world.actors.staff(Role.OPERATOR)
        [cyberport, sandy] = client.get("/api/v1/clusters", headers=operator.headers).json()
        assert (cyberport["name"], cyberport["site"], cyberport["backend"]) == (
            "cyberport-h800",
            "cyberport",
            "slurm",
        )
        assert [
            (p["name"], p["gpus"], p["accelerator"]["name"]) for p in cyberport["partitions"]
        ] == [
            ("debug", 64, "h800"),
            ("gpu", 2976, "h800"),
        ]
        assert sandy["connection"]["restd_token_env"] == "COMPUTEPORT_SANDY_RIDGE_SLURMRESTD_TOKEN"
        assert sandy["partitions"][0]["accelerator"]["peak_pflops"] == "0.5"

    def test_an_unknown_cluster_is_a_404_problem(self, world: World, client: TestClient) -> None:
        operator = world.actors.staff(Role.OPERATOR)
        response = client.get("/api/v1/clusters/nowhere", headers=operator.headers)
        problem = assert_problem(response, 404)
        assert "nowhere" in problem["detail"]

    def test_an_empty_inventory_is_an_empty_list(self, world: World, client: TestClient) -> None:
        operator = world.actors.staff(Role.OPERATOR)
        assert client.get("/api/v1/sites", headers=operator.headers).json() == []


def test_cluster_health_says_which_is_down_since_when(world: World, client: TestClient) -> None:
    from datetime import timedelta

    from computeport.inventory.health import mark_down, mark_up

    start = world.clock.now()
    mark_down(world.session, "sandy-ridge-a", start, "BackendUnavailable: no answer", "i@s")
    mark_down(world.session, "sandy-ridge-a", start + timedelta(minutes=5), "again", "r@s")
    mark_up(world.session, "cyberport-h800", start)
    operator = world.actors.staff(Role.OPERATOR)
    body = client.get("/api/v1/clusters/health", headers=operator.headers).json()
    assert [(h["cluster"], h["state"]) for h in body] == [
        ("cyberport-h800", "up"),
        ("sandy-ridge-a", "down"),
    ]
    down = body[1]
    assert down["down_since"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert (down["last_error"], down["failing_duties"]) == ("again", ["i@s", "r@s"])
    # One duty answers again: still down while the other fails (e.g. the controller is down
    # while its accounting answers); both answer: up, the outage over, the error not shown.
    mark_up(world.session, "sandy-ridge-a", start + timedelta(minutes=8), "i@s")
    still = client.get("/api/v1/clusters/health", headers=operator.headers).json()[1]
    assert (still["state"], still["failing_duties"]) == ("down", ["r@s"])
    mark_up(world.session, "sandy-ridge-a", start + timedelta(minutes=9), "r@s")
    again = client.get("/api/v1/clusters/health", headers=operator.headers).json()[1]
    assert (again["state"], again["down_since"], again["last_error"]) == ("up", None, None)
    assert again["failing_duties"] == []
    applicant = world.actors.applicant()
    assert client.get("/api/v1/clusters/health", headers=applicant.headers).status_code == 403
