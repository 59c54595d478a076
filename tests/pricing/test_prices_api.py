"""``/api/v1/prices``: everyone signed in reads the card; operators draft, scheme officers approve
(never their own draft); bad input is problem+json naming the field, with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.models.identity import Role
from computeport.models.pricing import PriceChange, PriceKind
from computeport.pricing.approval import PriceChangeRequest, draft_change
from computeport.pricing.service import seed_assumed_prices
from tests.api.fixtures import Actor, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem, row_counts
from tests.inventory.inventory_files import cyberport_text

NEXT_MONTH = datetime(2026, 11, 1, tzinfo=UTC)


def _draft(world: World, operator: Actor) -> PriceChange:
    seed_assumed_prices(world.session, world.clock)
    return draft_change(
        world.session,
        world.clock,
        operator.subject,
        PriceChangeRequest(PriceKind.GPU_HOUR, "h800", Decimal("30.00"), NEXT_MONTH, "tariff"),
    )


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "gpu_hour",
        "subject": "h800",
        "unit_price": "30.00",
        "valid_from": NEXT_MONTH.isoformat(),
        "reason": "the new tariff",
        **changes,
    }


class TestPricesApi(PermissionSuite):
    cases = ("card", "versions", "draft", "changes", "approve", "reject")

    def build(self, name: str, world: World) -> Case:
        applicant = world.actors.applicant()
        operator = world.actors.staff(Role.OPERATOR)
        officer = world.actors.staff(Role.SCHEME_OFFICER)
        if name == "card":
            seed_assumed_prices(world.session, world.clock)
            return Case("GET", "/api/v1/prices", allowed=applicant)
        if name == "versions":
            return Case("GET", "/api/v1/prices/versions", allowed=world.actors.nobody())
        if name == "draft":
            seed_assumed_prices(world.session, world.clock)
            return Case(
                "POST", "/api/v1/prices/changes", allowed=operator, json=_body(), expect=201,
                wrong_role=officer,
            )  # fmt: skip
        if name == "changes":
            return Case("GET", "/api/v1/prices/changes", allowed=officer, wrong_role=applicant)
        # Approving and rejecting: a scheme officer, never the person who drafted it — even
        # one who holds both roles.
        both = world.actors.staff(Role.OPERATOR, Role.SCHEME_OFFICER)
        change = _draft(world, both)
        verb = "approve" if name == "approve" else "reject"
        return Case(
            "POST", f"/api/v1/prices/changes/{change.id}/{verb}", allowed=officer,
            json={"reason": "agreed by the committee"}, wrong_role=operator,
            same_person=both if name == "approve" else None,
        )  # fmt: skip


def test_the_card_shows_the_price_in_force_and_the_next(world: World, client: TestClient) -> None:
    operator = world.actors.staff(Role.OPERATOR)
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    change = _draft(world, operator)
    approved = client.post(f"/api/v1/prices/changes/{change.id}/approve", headers=officer.headers)
    assert approved.status_code == 200, approved.text
    reader = world.actors.applicant()
    card = client.get("/api/v1/prices", headers=reader.headers).json()
    h800 = next(line for line in card["lines"] if line["subject"] == "h800")
    assert Decimal(h800["in_force"]["unit_price"]) == Decimal("28.00")
    assert h800["in_force"]["is_assumption"] is True
    assert Decimal(h800["next"]["unit_price"]) == Decimal("30.00")
    assert h800["next"]["id"] == approved.json()["id"]
    later = client.get(
        "/api/v1/prices", params={"at": "2026-11-15T00:00:00Z"}, headers=reader.headers
    ).json()
    h800_later = next(line for line in later["lines"] if line["subject"] == "h800")
    naive = client.get("/api/v1/prices", params={"at": "2026-11-15T00:00"}, headers=reader.headers)
    assert "at" in str(assert_problem(naive, 422))
    assert h800_later["in_force"]["id"] == approved.json()["id"]
    assert h800_later["next"] is None
    estimate = client.get(
        "/api/v1/prices/estimate",
        params={"accelerator_type": "h800", "gpu_hours": 1000, "subsidy_rate": "0.7"},
        headers=reader.headers,
    ).json()
    assert (estimate["list_minor"], estimate["subsidy_minor"], estimate["copay_minor"]) == (
        2_800_000,
        1_960_000,
        840_000,
    )


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"unit_price": "-1"}, 422, "unit_price"),
        ({"unit_price": "0"}, 422, "unit_price"),
        ({"valid_from": "2026-09-30T00:00:00Z"}, 422, "valid_from"),
        ({"subject": "b300"}, 422, "subject"),
        ({"kind": "qos_multiplier", "subject": "platinum", "unit_price": "2"}, 422, "subject"),
        ({"currency": "USD"}, 422, "currency"),
        ({"kind": "tokens", "subject": "qwen"}, 422, "unit_price_output"),
        ({"unit_price": "lots"}, 422, "unit_price"),
        ({"reason": " "}, 422, "reason"),
        ({"site": "atlantis"}, 422, "site"),
        ({"cluster": "atlantis-a"}, 422, "cluster"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: World, client: TestClient, changes: dict[str, Any], status: int, field: str
) -> None:
    seed_assumed_prices(world.session, world.clock)
    operator = world.actors.staff(Role.OPERATOR)
    before = row_counts(world.session)
    response = client.post(
        "/api/v1/prices/changes", json=_body(**changes), headers=operator.headers
    )
    body = assert_problem(response, status)
    assert field in str(body), body
    world.session.expire_all()
    assert row_counts(world.session) == before


def test_a_retroactive_approval_is_refused(world: World, client: TestClient) -> None:
    operator = world.actors.staff(Role.OPERATOR)
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    change = _draft(world, operator)
    world.clock.set(NEXT_MONTH + timedelta(hours=1))
    before = row_counts(world.session)
    response = client.post(f"/api/v1/prices/changes/{change.id}/approve", headers=officer.headers)
    body = assert_problem(response, 409)
    assert "valid_from" in str(body)
    world.session.expire_all()
    assert row_counts(world.session) == before


def test_a_site_price_is_drafted_for_an_inventory_site_and_listed_with_it(
    world: World, client: TestClient
) -> None:
    load_inventory(world.session, parse_inventory(cyberport_text()), actor_id=None,
                   at=world.clock.now(), source="cyberport.toml")  # fmt: skip
    seed_assumed_prices(world.session, world.clock)
    operator = world.actors.staff(Role.OPERATOR)
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    drafted = client.post(
        "/api/v1/prices/changes",
        json=_body(unit_price="36.00", site="sandy-ridge"),
        headers=operator.headers,
    )
    assert drafted.status_code == 201, drafted.text
    change = drafted.json()["id"]
    approved = client.post(f"/api/v1/prices/changes/{change}/approve", headers=officer.headers)
    assert approved.status_code == 200, approved.text
    card = client.get(
        "/api/v1/prices", params={"at": "2026-11-15T00:00:00Z"}, headers=officer.headers
    ).json()
    h800 = {
        (line["site"], line["cluster"]): line["in_force"]
        for line in card["lines"]
        if line["subject"] == "h800"
    }
    assert Decimal(h800[("sandy-ridge", None)]["unit_price"]) == Decimal("36.00")
    assert Decimal(h800[(None, None)]["unit_price"]) == Decimal("28.00")
