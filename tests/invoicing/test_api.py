"""The invoice API: who may read which invoice or statement, list invoices, and pay."""

from __future__ import annotations

from fastapi.testclient import TestClient

from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite
from tests.factories.invoicing import Billed


class TestInvoicingApi(PermissionSuite):
    cases = ("invoice", "invoice_csv", "statement", "payment")

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
