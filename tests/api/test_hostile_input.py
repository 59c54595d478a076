"""Input a fuzzer (schemathesis) found answered with a 500: each is now a problem naming the
field, and writes nothing.  Numbers past 64 bits, instants with no UTC form, a move to a state
no move leads to, an estimate past Decimal's precision."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from computeport.http.paging import MAX_SQL_INTEGER
from computeport.models.application import ApplicationStatus
from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import assert_problem, row_counts
from tests.factories import application as fa
from tests.factories import scheme as fs

TOO_BIG = MAX_SQL_INTEGER + 1


def _fields(problem: dict[str, object]) -> set[str]:
    errors = problem.get("errors") or []
    assert isinstance(errors, list)
    return {str(e["field"]) for e in errors}


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/applications", "offset"),
        ("/api/v1/awards", "offset"),
        ("/api/v1/users", "offset"),
        ("/api/v1/organisations", "offset"),
        ("/api/v1/usage", "after_id"),
    ],
)
def test_paging_past_64_bits_is_refused_naming_the_parameter(
    world: World, client: TestClient, path: str, parameter: str
) -> None:
    operator = world.actors.staff(Role.OPERATOR)
    refused = client.get(f"{path}?{parameter}={TOO_BIG}", headers=operator.headers)
    assert _fields(assert_problem(refused, 422)) == {parameter}
    largest = client.get(f"{path}?{parameter}={MAX_SQL_INTEGER}", headers=operator.headers)
    assert largest.status_code == 200, largest.text
    assert largest.json() == []


@pytest.mark.parametrize("to", ["draft", "approved"])
def test_no_move_leads_back_to_draft_nor_around_the_award_decision(
    world: World, client: TestClient, to: str
) -> None:
    org = world.actors.organisation()
    owner = world.actors.applicant(org)
    app = fa.application(
        world.session, organisation=org, applicant=owner.subject, status=ApplicationStatus.SUBMITTED
    )
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    before = row_counts(world.session)
    for actor in (owner, officer):
        problem = assert_problem(
            client.post(
                f"/api/v1/applications/{app.id}/transitions",
                json={"to": to, "reason": "try"},
                headers=actor.headers,
            ),
            409,
        )
        assert problem["field"] == "to"
    assert row_counts(world.session) == before


def test_an_estimate_at_an_implausible_utilisation_is_refused(
    world: World, client: TestClient
) -> None:
    who = world.actors.nobody()
    base = "/api/v1/estimates/gpu-hours?model_parameters=100000000000000&tokens=10000000000000000"
    refused = client.get(f"{base}&utilisation=0.000000000000001", headers=who.headers)
    assert _fields(assert_problem(refused, 422)) == {"utilisation"}
    lowest = client.get(f"{base}&utilisation=0.01", headers=who.headers)
    assert lowest.status_code == 200, lowest.text
    assert lowest.json()["gpu_hours"] > 0


@pytest.mark.parametrize("instant", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_instant_with_no_utc_form_is_refused_naming_the_field(
    world: World, client: TestClient, instant: str
) -> None:
    person = world.actors.nobody()
    refused = client.post(
        "/api/v1/tokens", json={"name": "t", "expires_at": instant}, headers=person.headers
    )
    assert _fields(assert_problem(refused, 422)) == {"expires_at"}

    officer = world.actors.staff(Role.SCHEME_OFFICER)
    scheme = fs.scheme(world.session)
    before = row_counts(world.session)
    refused = client.post(
        f"/api/v1/schemes/{scheme.id}/calls",
        json={"name": "far", "opens_at": "2026-10-01T00:00:00+08:00", "closes_at": instant},
        headers=officer.headers,
    )
    assert _fields(assert_problem(refused, 422)) == {"closes_at"}
    assert row_counts(world.session) == before


def test_a_payment_time_needs_its_zone(world: World, client: TestClient) -> None:
    operator = world.actors.staff(Role.OPERATOR)
    refused = client.post(
        "/api/v1/invoices/INV-2026-10-0001/payments",
        json={"amount_minor": 100, "reference": "R-1", "received_at": "2026-11-02T10:00:00"},
        headers=operator.headers,
    )
    assert _fields(assert_problem(refused, 422)) == {"received_at"}


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_text_no_database_can_store_is_refused_naming_the_field(
    world: World, client: TestClient, text: str
) -> None:
    """NUL and lone surrogates (valid JSON escapes): PostgreSQL refuses the first, psycopg
    cannot encode the second; both are refused while validating, on either engine."""
    officer = world.actors.staff(Role.SCHEME_OFFICER)
    before = row_counts(world.session)
    for url, body, field in (
        ("/api/v1/tokens", {"name": text}, "name"),
        ("/api/v1/organisations", {"name": text, "category": "enterprise"}, "name"),
        (
            "/api/v1/invoices/INV-2026-10-0001/payments",
            {"amount_minor": 1, "reference": text},
            "reference",
        ),
    ):
        refused = client.post(
            url,
            content=json.dumps(body),  # ensure_ascii: sent as \\u escapes, as a client would
            headers={**officer.headers, "content-type": "application/json"},
        )
        assert _fields(assert_problem(refused, 422)) == {field}, url
    assert row_counts(world.session) == before


def test_a_nul_in_a_path_is_an_answer_not_a_crash(world: World, client: TestClient) -> None:
    operator = world.actors.staff(Role.OPERATOR)
    answer = client.get("/api/v1/invoices/INV%00", headers=operator.headers)
    assert answer.status_code in (404, 422)  # SQLite finds nothing; PostgreSQL cannot compare
    assert answer.headers["content-type"].startswith("application/problem+json")
