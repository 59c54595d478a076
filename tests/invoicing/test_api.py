"""The billing API: who may read which invoice, usage, ledger and burn-down, and pay."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.metering.ingest import ingest_usage
from computeport.models.identity import Role
from tests.api.fixtures import Actor, World
from tests.api.permission_suite import Case, PermissionSuite
from tests.factories import award as fw
from tests.factories import metering as fm
from tests.factories import pricing as fp
from tests.factories import scheme as fs


class Billed:
    """An organisation with an award, a month of usage and a closed period."""

    def __init__(self, world: World) -> None:
        self.org = world.actors.organisation()
        self.owner: Actor = world.actors.applicant(self.org)
        sch = fs.scheme_row(world.session, world.clock)
        self.award = fw.award(
            world.session, world.clock, sch, self.org, f"api-{self.org.id.hex[:8]}"
        )
        fp.prices(world.session, world.clock)
        world.clock.set(datetime(2026, 11, 2, tzinfo=UTC))
        end = datetime(2026, 10, 9, tzinfo=UTC)
        ingest_usage(
            world.session,
            world.clock,
            [fm.record(i, self.award.slurm_account, end=end.replace(hour=i)) for i in range(3)],
        )
        post_all(world.session, world.clock)
        report = close_period(world.session, world.clock, "2026-10")
        self.invoice, self.statement = report.documents
        world.session.flush()


class TestBillingApi(PermissionSuite):
    cases = ("invoice", "invoice_csv", "statement", "usage", "balances", "burndown", "payment")

    def build(self, name: str, world: World) -> Case:
        b = Billed(world)
        other = world.actors.applicant()
        operator = world.actors.staff(Role.OPERATOR)
        if name == "invoice":
            return Case("GET", f"/api/v1/invoices/{b.invoice}", allowed=b.owner, other_org=other)
        if name == "invoice_csv":
            return Case(
                "GET", f"/api/v1/invoices/{b.invoice}/csv", allowed=b.owner, other_org=other
            )
        if name == "statement":
            return Case(
                "GET",
                f"/api/v1/invoices/{b.statement}",
                allowed=world.actors.staff(Role.FUNDER),
                other_org=b.owner,
            )
        if name == "usage":
            return Case("GET", "/api/v1/usage", allowed=b.owner)
        if name == "balances":
            return Case("GET", "/api/v1/ledger/balances", allowed=operator, wrong_role=b.owner)
        if name == "burndown":
            return Case(
                "GET", f"/api/v1/awards/{b.award.id}/burndown", allowed=b.owner, other_org=other
            )
        assert name == "payment"
        return Case(
            "POST",
            f"/api/v1/invoices/{b.invoice}/payments",
            json={"amount_minor": 100, "reference": "BANK-API-1"},
            allowed=operator,
            wrong_role=b.owner,
            expect=201,
        )


def test_an_organisation_lists_only_its_own_invoices(world: World, client: TestClient) -> None:
    mine = Billed(world)
    other = world.actors.applicant()
    body = client.get("/api/v1/invoices", headers=mine.owner.headers).json()
    assert [d["number"] for d in body] == [mine.invoice]
    assert body[0]["due_minor"] == body[0]["outstanding_minor"] > 0
    assert client.get("/api/v1/invoices", headers=other.headers).json() == []


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


def test_html_of_an_invoice(world: World, client: TestClient) -> None:
    b = Billed(world)
    response = client.get(f"/api/v1/invoices/{b.invoice}/html", headers=b.owner.headers)
    assert response.status_code == 200
    assert b.invoice in response.text


def test_a_payment_beyond_reason_is_a_problem_naming_the_amount(
    world: World, client: TestClient
) -> None:
    b = Billed(world)
    operator = world.actors.staff(Role.OPERATOR)
    url = f"/api/v1/invoices/{b.invoice}/payments"
    for amount, status in ((2**63, 422), (0, 422), (10**9, 409)):
        answer = client.post(
            url, json={"amount_minor": amount, "reference": f"R-{amount}"}, headers=operator.headers
        )
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "amount_minor" in {e["field"] for e in answer.json()["errors"]}
    listed = client.get("/api/v1/invoices", headers=operator.headers)
    assert listed.status_code == 200
    (invoice,) = [d for d in listed.json() if d["number"] == b.invoice]
    assert invoice["outstanding_minor"] == invoice["due_minor"]  # nothing was recorded
