"""Scheme API: permissions for every resource, and bad input as precise 4xx."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from computeport.models.identity import Role
from tests.api.fixtures import Actors, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem, row_counts
from tests.factories import scheme as fs


def scheme_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "AISS",
        "name": "AI Subsidy Scheme",
        "envelope_minor": 300_000_000_000,
        "period_start": "2024-10-01T00:00:00Z",
        "period_end": "2027-10-01T00:00:00Z",
        "default_rate": "0.70",
        "max_rate": "0.90",
        "eligible_categories": ["university", "rd_centre", "enterprise", "government"],
        "criteria": [
            {"key": "alignment", "name": "Alignment", "weight": "0.25"},
            {"key": "reasonableness", "name": "Reasonableness", "weight": "0.20"},
            {"key": "capability", "name": "Capability", "weight": "0.20"},
            {"key": "team", "name": "Team", "weight": "0.15"},
            {"key": "impact", "name": "Impact", "weight": "0.20"},
        ],
    }
    body.update(over)
    return body


class TestSchemePermissions(PermissionSuite):
    cases = ("list", "get", "create", "update", "rubric", "calls", "create_call", "close_call")

    def build(self, name: str, world: World) -> Case:
        a, s = world.actors, world.session
        scheme = fs.scheme(s)
        officer = a.staff(Role.SCHEME_OFFICER)
        wrong = a.staff(Role.FUNDER)
        base = f"/api/v1/schemes/{scheme.id}"
        match name:
            case "list":
                return Case("GET", "/api/v1/schemes", allowed=a.applicant())
            case "get":
                return Case("GET", base, allowed=a.staff(Role.FUNDER))
            case "create":
                return Case(
                    "POST",
                    "/api/v1/schemes",
                    json=scheme_body(),
                    allowed=officer,
                    wrong_role=a.applicant(),
                    expect=201,
                )
            case "update":
                return Case(
                    "PATCH", base, json={"name": "Renamed"}, allowed=officer, wrong_role=wrong
                )
            case "rubric":
                return Case(
                    "PUT",
                    f"{base}/rubric",
                    json={"criteria": [{"key": "all", "name": "All", "weight": "1"}]},
                    allowed=officer,
                    wrong_role=a.staff(Role.COMMITTEE_MEMBER),
                )
            case "calls":
                return Case("GET", f"{base}/calls", allowed=a.applicant())
            case "create_call":
                return Case(
                    "POST",
                    f"{base}/calls",
                    json={"name": "Round 1", "opens_at": "2025-01-01T00:00:00Z"},
                    allowed=officer,
                    wrong_role=wrong,
                    expect=201,
                )
            case _:
                call = fs.call(s, scheme)
                return Case(
                    "POST",
                    f"/api/v1/calls/{call.id}/close",
                    allowed=officer,
                    wrong_role=a.applicant(),
                )


class TestSchemeBadInput:
    def _post(self, client: TestClient, actors: Actors, body: dict[str, Any]) -> dict[str, Any]:
        officer = actors.staff(Role.SCHEME_OFFICER)
        response = client.post("/api/v1/schemes", json=body, headers=officer.headers)
        return {"status": response.status_code, "body": response.json()}

    def test_created_scheme_round_trips_decimals(self, client: TestClient, actors: Actors) -> None:
        out = self._post(client, actors, scheme_body())
        assert out["status"] == 201, out
        weights = [Decimal(c["weight"]) for c in out["body"]["criteria"]]
        assert weights == [Decimal(w) for w in ("0.25", "0.20", "0.20", "0.15", "0.20")]
        assert Decimal(out["body"]["default_rate"]) == Decimal("0.7")

    def test_weights_not_summing_to_one(
        self, client: TestClient, actors: Actors, world: World
    ) -> None:
        body = scheme_body()
        body["criteria"][0]["weight"] = "0.26"
        officer = actors.staff(Role.SCHEME_OFFICER)
        before = row_counts(world.session)
        response = client.post("/api/v1/schemes", json=body, headers=officer.headers)
        problem = assert_problem(response, 422)
        assert problem["field"] == "criteria"
        assert "sum to" in problem["detail"]
        assert row_counts(world.session) == before

    def test_dates_in_wrong_order(self, client: TestClient, actors: Actors) -> None:
        out = self._post(client, actors, scheme_body(period_end="2024-01-01T00:00:00Z"))
        assert out["status"] == 422
        assert out["body"]["field"] == "period_end"

    def test_rate_above_one_and_negative_envelope(self, client: TestClient, actors: Actors) -> None:
        out = self._post(client, actors, scheme_body(max_rate="1.5", envelope_minor=-1))
        assert out["status"] == 422
        fields = {e["field"] for e in out["body"]["errors"]}
        assert fields == {"max_rate", "envelope_minor"}

    def test_naive_datetime_is_refused(self, client: TestClient, actors: Actors) -> None:
        out = self._post(client, actors, scheme_body(period_start="2024-10-01T00:00:00"))
        assert out["status"] == 422
        assert out["body"]["errors"][0]["field"] == "period_start"

    def test_call_dates_in_wrong_order(
        self, client: TestClient, actors: Actors, world: World
    ) -> None:
        scheme = fs.scheme(world.session)
        officer = actors.staff(Role.SCHEME_OFFICER)
        response = client.post(
            f"/api/v1/schemes/{scheme.id}/calls",
            json={
                "name": "R",
                "opens_at": "2025-02-01T00:00:00Z",
                "closes_at": "2025-01-01T00:00:00Z",
            },
            headers=officer.headers,
        )
        assert assert_problem(response, 422)["field"] == "closes_at"
