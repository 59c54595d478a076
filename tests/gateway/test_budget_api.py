"""Budgets through the REST API: operators set them (validated, audited), members read the
period in force (calendar month, Hong Kong time), its reset and what each budget has spent."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.token_rating import token_charge_minor
from computeport.gateway.keys import issue_key
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.audit import AuditRecord
from computeport.models.identity import Role
from computeport.pricing.book import PriceBook
from tests.api.fixtures import Actors
from tests.factories.inference import card, event

URL = "/api/v1/gateway-budgets"


def test_operators_set_budgets_and_members_read_the_hong_kong_month(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    operator = actors.staff(Role.OPERATOR)
    org = actors.organisation()
    member = actors.applicant(org, role=Role.MEMBER)
    key = issue_key(session, clock, org.id, "assistant").key
    card(session, clock)
    # The clock reads 1 Oct 2026 08:00 in Hong Kong: 30 Sep 17:00 UTC is already October there,
    # 30 Sep 15:00 UTC is still September (not this period's spend).
    october = event(org.id, None, 1000, 500, key_id=key.id,
                    started_at=datetime(2026, 9, 30, 17, tzinfo=UTC))  # fmt: skip
    september = event(org.id, None, 9000, 9000, key_id=key.id,
                      started_at=datetime(2026, 9, 30, 15, tzinfo=UTC))  # fmt: skip
    ingest_token_usage(session, clock, [october, september])
    for body in (
        {"scope": "department", "monthly_minor": 500_000},
        {"scope": "application", "application": "assistant", "monthly_minor": 200_000},
        {"scope": "key", "key_id": str(key.id), "monthly_minor": 100_000},
    ):
        r = client.put(URL, json={"organisation_id": str(org.id), **body}, headers=operator.headers)
        assert r.status_code == 200, r.text
    r = client.get(URL, params={"organisation_id": str(org.id)}, headers=member.headers)
    assert r.status_code == 200
    got = r.json()
    assert got["period"] == "2026-10"
    assert "Asia/Hong_Kong" in got["period_rule"]
    assert got["currency"] == "HKD"
    assert got["period_starts_at"] == "2026-10-01T00:00:00+08:00"
    assert got["resets_at"] == "2026-11-01T00:00:00+08:00"
    price = PriceBook.load(session).token_price("smollm2", october.started_at.timestamp())
    assert price is not None
    spent = token_charge_minor(price, 1000, 500)
    lines = {b["scope"]: b for b in got["budgets"]}
    assert {s: (b["monthly_minor"], b["spent_minor"]) for s, b in lines.items()} == {
        "department": (500_000, spent),
        "application": (200_000, spent),
        "key": (100_000, spent),
    }
    assert lines["key"]["left_minor"] == 100_000 - spent
    audited = session.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "gateway_budget")
    ).all()
    assert sorted(audited) == ["budget_set"] * 3
    removed = client.put(
        URL,
        json={"organisation_id": str(org.id), "scope": "department", "monthly_minor": None},
        headers=operator.headers,
    )
    assert [b["scope"] for b in removed.json()["budgets"]] == ["application", "key"]


def test_bad_budgets_are_named_and_only_operators_set_them(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    operator = actors.staff(Role.OPERATOR)
    org = actors.organisation()
    admin = actors.applicant(org)
    key = issue_key(session, clock, org.id, "assistant").key
    base = {"organisation_id": str(org.id)}

    def put(body: dict[str, object], who: dict[str, str] = operator.headers) -> tuple[int, str]:
        r = client.put(URL, json={**base, **body}, headers=who)
        return r.status_code, str(r.json().get("field") or r.json().get("detail"))

    assert put({"scope": "department", "monthly_minor": 1}, admin.headers)[0] == 403
    assert put({"scope": "key", "monthly_minor": 1}) == (422, "key_id")
    assert put({"scope": "department", "key_id": str(key.id), "monthly_minor": 1}) == (
        422,
        "key_id",
    )
    assert put({"scope": "application", "monthly_minor": 1}) == (422, "application")
    assert put({"scope": "application", "application": "other", "monthly_minor": 1}) == (
        404,
        "application",
    )
    status, _ = put({"scope": "department", "monthly_minor": -1})
    assert status == 422
    stranger = actors.applicant()
    r = client.get(URL, params={"organisation_id": str(org.id)}, headers=stranger.headers)
    assert r.status_code == 404
    r = client.get(URL, params={"organisation_id": str(org.id)}, headers=admin.headers)
    assert r.json()["budgets"] == []  # nothing was half-written
