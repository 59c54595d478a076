"""The billing API: who may read usage, ledger balances and an award's burn-down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite
from tests.factories.invoicing import Billed


class TestBillingApi(PermissionSuite):
    cases = ("usage", "balances", "burndown")

    def build(self, name: str, world: World) -> Case:
        b = Billed(world)
        other = world.actors.applicant()
        operator = world.actors.staff(Role.OPERATOR)
        if name == "usage":
            return Case("GET", "/api/v1/usage", allowed=b.owner)
        if name == "balances":
            return Case("GET", "/api/v1/ledger/balances", allowed=operator, wrong_role=b.owner)
        assert name == "burndown"
        return Case(
            "GET", f"/api/v1/awards/{b.award.id}/burndown", allowed=b.owner, other_org=other
        )


def test_usage_rows_and_burn_down_figures(world: World, client: TestClient) -> None:
    b = Billed(world)
    usage = client.get("/api/v1/usage?period=2026-10", headers=b.owner.headers).json()
    assert [(u["job_id"], u["list_minor"], u["subsidy_minor"]) for u in usage] == [
        ("0", 22_400, 15_680),
        ("1", 22_400, 15_680),
        ("2", 22_400, 15_680),
    ]
    assert {u["kind"] for u in usage} == {"subsidised"}
    burn = client.get(f"/api/v1/awards/{b.award.id}/burndown", headers=b.owner.headers).json()
    assert burn["consumed_minor"] == 3 * 15_680
    assert burn["cap_minor"] == b.award.cap_minor
