"""GET/POST /api/v1/awards/{id}/shares: who may read and move, and bad input as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from computeport.models.award import Award
from computeport.models.award_share import AwardShareMove
from computeport.models.identity import Organisation, Role
from tests.api.fixtures import Actor, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.award.share_centre import load_centre
from tests.factories import award as fw

HOURS = 1000


def owned_award(world: World) -> tuple[Award, Actor]:
    load_centre(world.session, world.clock)
    owner = world.actors.applicant()
    org = world.session.get_one(Organisation, next(iter(owner.subject.organisation_ids)))
    award = fw.approved_award(
        world.session, world.clock, fw.scheme(world.session), organisation=org, gpu_hours=HOURS
    )
    return award, owner


def body(**changes: Any) -> dict[str, Any]:
    return {"from": "reserve", "to": "ridge", "hours": 300, "reason": "team moved"} | changes


class TestSharesApi(PermissionSuite):
    cases = ("show", "move", "limit")

    def build(self, name: str, world: World) -> Case:
        award, owner = owned_award(world)
        path = f"/api/v1/awards/{award.id}/shares"
        other = world.actors.applicant()
        if name == "show":
            return Case("GET", path, allowed=owner, other_org=other)
        if name == "limit":
            return Case(
                "PUT",
                f"/api/v1/awards/{award.id}/places",
                allowed=world.actors.staff(Role.OPERATOR),
                json={"sites": ["sandy-ridge"], "reason": "team at Sandy Ridge"},
                wrong_role=owner,
                other_org=world.actors.staff(Role.REVIEWER),
                other_org_status=403,
            )
        return Case(
            "POST",
            path,
            allowed=world.actors.staff(Role.SCHEME_OFFICER),
            json=body(),
            expect=201,
            wrong_role=owner,  # the award's own organisation may read, not move
            other_org=world.actors.staff(Role.FUNDER),
            other_org_status=403,
        )

    def test_an_operator_moves_and_reads_the_split(self, world: World, client: TestClient) -> None:
        award, owner = owned_award(world)
        operator = world.actors.staff(Role.OPERATOR)
        path = f"/api/v1/awards/{award.id}/shares"
        moved = client.post(path, json=body(), headers=operator.headers)
        assert moved.status_code == 201, moved.text
        again = client.post(
            path,
            json=body(**{"from": "ridge", "to": "alpha", "hours": 100}),
            headers=operator.headers,
        )
        assert again.status_code == 201, again.text
        seen = client.get(path, headers=owner.headers).json()
        (line,) = seen["lines"]
        assert (line["reserve"], line["shares"], line["gpu_hours"]) == (
            700,
            {"alpha": 100, "ridge": 200},
            HOURS,
        )
        assert line["eligible"] == ["alpha", "beta", "ridge"]
        assert seen["places"] == []

    @pytest.mark.parametrize(
        ("changes", "status", "field"),
        [
            ({"hours": 0}, 422, "hours"),
            ({"hours": "many"}, 422, "hours"),
            ({"reason": ""}, 422, "reason"),
            ({"to": "domestic"}, 422, "to"),
            ({"to": "reserve"}, 422, "to"),
            ({"from": "beta"}, 422, "from"),
            ({"accelerator_type": "a100"}, 422, "accelerator_type"),
            ({"hours": HOURS + 1}, 409, "hours"),
        ],
    )
    def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
        self,
        world: World,
        client: TestClient,
        changes: dict[str, Any],
        status: int,
        field: str,
    ) -> None:
        award, _ = owned_award(world)
        operator = world.actors.staff(Role.OPERATOR)
        response = client.post(
            f"/api/v1/awards/{award.id}/shares", json=body(**changes), headers=operator.headers
        )
        problem = assert_problem(response, status)
        assert field in json_fields(problem), problem
        assert world.session.scalar(select(func.count()).select_from(AwardShareMove)) == 0

    def test_a_limit_is_shown_and_an_unknown_site_names_its_index(
        self, world: World, client: TestClient
    ) -> None:
        award, _ = owned_award(world)
        operator = world.actors.staff(Role.OPERATOR)
        path = f"/api/v1/awards/{award.id}/places"
        limited = client.put(
            path, json={"clusters": ["ridge"], "reason": "r"}, headers=operator.headers
        )
        assert limited.status_code == 200, limited.text
        assert limited.json()["places"] == ["cluster:ridge"]
        assert limited.json()["lines"][0]["eligible"] == ["ridge"]
        bad = client.put(path, json={"sites": ["mars"], "reason": "r"}, headers=operator.headers)
        assert "sites.0" in json_fields(assert_problem(bad, 422))


def json_fields(problem: dict[str, Any]) -> str:
    """Where a problem names its field(s): ``field`` or the validation ``errors``."""
    return f"{problem.get('field', '')} {problem.get('errors', '')}"
