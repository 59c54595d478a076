"""The adjustments API: operators post, ledger readers list; replays, conflicts and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from computeport.models.adjustment import Adjustment
from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.factories.invoicing import Billed


def _body(b: Billed, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "target": "receivable",
        "organisation_id": str(b.org.id),
        "amount_minor": -1_500,
        "period": "2026-10",
        "reason": "goodwill: queue outage on 9 Oct",
        "idempotency_key": "GW-2026-10-001",
    }
    body.update(change)
    return body


class TestAdjustmentsApi(PermissionSuite):
    cases = ("post", "list")

    def build(self, name: str, world: World) -> Case:
        b = Billed(world)
        if name == "post":
            return Case(
                "POST",
                "/api/v1/adjustments",
                json=_body(b),
                allowed=world.actors.staff(Role.OPERATOR),
                wrong_role=world.actors.staff(Role.FUNDER),
                expect=201,
            )
        assert name == "list"
        return Case(
            "GET",
            "/api/v1/adjustments",
            allowed=world.actors.staff(Role.FUNDER),
            wrong_role=b.owner,
        )


def _count(world: World) -> int:
    world.session.expire_all()
    return int(world.session.scalar(select(func.count()).select_from(Adjustment)) or 0)


def test_the_same_key_is_200_with_the_same_adjustment_and_other_content_409(
    world: World, client: TestClient
) -> None:
    b = Billed(world)
    operator = world.actors.staff(Role.OPERATOR)
    first = client.post("/api/v1/adjustments", json=_body(b), headers=operator.headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/adjustments", json=_body(b), headers=operator.headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    clash = client.post(
        "/api/v1/adjustments", json=_body(b, amount_minor=-1_600), headers=operator.headers
    )
    problem = assert_problem(clash, 409)
    assert problem["errors"][0]["field"] == "idempotency_key"
    assert _count(world) == 1
    listed = client.get(
        "/api/v1/adjustments",
        params={"period": "2026-10", "organisation_id": str(b.org.id)},
        headers=operator.headers,
    ).json()
    assert [(a["idempotency_key"], a["amount_minor"], a["document_number"]) for a in listed] == [
        ("GW-2026-10-001", -1_500, None)
    ]
    assert listed[0]["billing_period"] == "2026-11"  # October is closed: next open month


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"target": "revenue"}, "target"),
        ({"amount_minor": "12.5"}, "amount_minor"),
        ({"amount_minor": 0}, "amount_minor"),
        ({"period": "Oct 2026"}, "period"),
        ({"period": "0000-01"}, "period"),  # was a 500: year 0 is no date
        ({"period": "9999-12"}, "period"),  # its month-end is year 10000
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"organisation_id": None}, "organisation_id"),
        ({"target": "subsidy", "organisation_id": None}, "award_id"),
        ({"amount_minor": -(10**9), "target": "subsidy"}, "amount_minor"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    world: World, client: TestClient, change: dict[str, Any], field: str
) -> None:
    b = Billed(world)
    if change.get("target") == "subsidy" and "organisation_id" not in change:
        change = {**change, "award_id": str(b.award.id)}
    operator = world.actors.staff(Role.OPERATOR)
    response = client.post("/api/v1/adjustments", json=_body(b, **change), headers=operator.headers)
    problem = assert_problem(
        response, 409 if field == "amount_minor" and "target" in change else 422
    )
    assert field in [e["field"] for e in problem.get("errors") or []], problem
    assert _count(world) == 0
