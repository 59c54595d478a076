"""Keys and deployments through the REST API: shown once, listed without the secret, revoked;
who may do what; a department's usage by day and model."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.identity import Role
from tests.api.fixtures import Actors
from tests.factories.inference import event


def test_a_department_admin_issues_lists_and_revokes_a_key(
    client: TestClient, actors: Actors
) -> None:
    org = actors.organisation()
    admin = actors.applicant(org)
    r = client.post(
        "/api/v1/gateway-keys",
        json={"organisation_id": str(org.id), "application": "chat assistant"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["key"].startswith("cpk_" + issued["prefix"] + "_")
    listed = client.get(
        "/api/v1/gateway-keys", params={"organisation_id": str(org.id)}, headers=admin.headers
    ).json()
    assert [k["application"] for k in listed] == ["chat assistant"]
    assert "key" not in listed[0]  # shown once, never again
    r = client.post(f"/api/v1/gateway-keys/{issued['id']}/revoke", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None


def test_members_and_strangers_may_not_issue(client: TestClient, actors: Actors) -> None:
    org = actors.organisation()
    member = actors.applicant(org, role=Role.MEMBER)
    stranger = actors.applicant()
    body = {"organisation_id": str(org.id), "application": "x"}
    assert client.post("/api/v1/gateway-keys", json=body, headers=member.headers).status_code == 403
    r = client.post("/api/v1/gateway-keys", json=body, headers=stranger.headers)
    assert r.status_code == 404  # another organisation is not shown
    bad = client.post(
        "/api/v1/gateway-keys",
        json={"organisation_id": str(org.id), "application": ""},
        headers=actors.applicant(org).headers,
    )
    assert bad.status_code == 422


def test_operators_register_deployments(client: TestClient, actors: Actors) -> None:
    operator = actors.staff(Role.OPERATOR)
    org = actors.organisation()
    body = {
        "name": "qwen2.5-72b-instruct",
        "organisation_id": str(org.id),
        "accelerator_type": "H800",
        "upstreams": ["http://10.0.0.5:8000/v1", "http://10.0.0.6:8000/v1"],
    }
    r = client.post("/api/v1/model-deployments", json=body, headers=operator.headers)
    assert r.status_code == 201, r.text
    assert r.json()["accelerator_type"] == "h800"
    again = client.post("/api/v1/model-deployments", json=body, headers=operator.headers)
    assert again.status_code == 409
    applicant = actors.applicant(org)
    assert (
        client.post("/api/v1/model-deployments", json=body, headers=applicant.headers).status_code
        == 403
    )
    bad = client.post(
        "/api/v1/model-deployments",
        json={**body, "name": "other", "upstreams": ["not a url"]},
        headers=operator.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "upstreams"


def test_usage_by_day_and_model(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    org = actors.organisation()
    admin = actors.applicant(org)
    ingest_token_usage(session, clock, [event(org.id, None, 30, 10), event(org.id, None, 5, 5)])
    rows = client.get(
        "/api/v1/inference-usage",
        params={"organisation_id": str(org.id), "period": "2026-10"},
        headers=admin.headers,
    ).json()
    assert [
        (r["day"], r["model"], r["requests"], r["prompt_tokens"], r["completion_tokens"])
        for r in rows
    ] == [("2026-10-01", "smollm2", 2, 35, 15)]
    other = actors.applicant()
    r = client.get(
        "/api/v1/inference-usage",
        params={"organisation_id": str(org.id), "period": "2026-10"},
        headers=other.headers,
    )
    assert r.status_code == 404


def test_figures_for_the_funder(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    from computeport.models.identity import OrganisationCategory
    from tests.factories import identity as identity_factory

    using = identity_factory.organisation(session, category=OrganisationCategory.GOVERNMENT)
    identity_factory.organisation(session, category=OrganisationCategory.GOVERNMENT)  # idle
    firm = actors.organisation()
    ingest_token_usage(
        session,
        clock,
        [
            event(using.id, None, 30, 10, latency_ms=100),
            event(using.id, None, 5, 5, latency_ms=300, status=503),
            event(firm.id, None, 1, 1, latency_ms=200, model="other"),
        ],
    )
    funder = actors.staff(Role.FUNDER)
    f = client.get(
        "/api/v1/inference-figures", params={"period": "2026-10"}, headers=funder.headers
    ).json()
    assert (f["requests"], f["errors"], f["prompt_tokens"], f["completion_tokens"]) == (
        3,
        1,
        36,
        16,
    )
    assert f["latency_ms"] == {"p50": 200, "p95": 300, "p99": 300}
    assert [(m["name"], m["requests"]) for m in f["by_model"]] == [("other", 1), ("smollm2", 2)]
    assert f["by_department"][0]["name"] == using.name
    assert f["government_using"] == 1
    assert f["government_total"] >= 2
    member = actors.applicant(firm)
    r = client.get(
        "/api/v1/inference-figures", params={"period": "2026-10"}, headers=member.headers
    )
    assert r.status_code == 403


def test_the_scheme_officer_sets_an_awards_allowance(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    from tests.factories import award as award_factory

    org = actors.organisation()
    a = award_factory.award(session, clock, award_factory.scheme(session), org, "acct-allow")
    officer = actors.staff(Role.SCHEME_OFFICER)
    url = f"/api/v1/awards/{a.id}/inference-allowance"
    r = client.put(url, json={"monthly_tokens": 5_000_000}, headers=officer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["monthly_tokens"] == 5_000_000
    bad = client.put(url, json={"monthly_tokens": -1}, headers=officer.headers)
    assert bad.status_code == 422
    admin = actors.applicant(org)
    assert client.put(url, json={"monthly_tokens": 1}, headers=admin.headers).status_code == 403


def test_figures_split_chat_and_transcription_and_the_subsidy_per_category(
    client: TestClient, actors: Actors, session: Session, clock: ManualClock
) -> None:
    from computeport.billing.token_rating import post_all_tokens
    from tests.factories.inference import audio_card, audio_event, card, department

    chat_only, chat_award = department(session, clock, "1")
    speech_only, speech_award = department(session, clock, "1")
    both, both_award = department(session, clock, "0.5")
    ingest_token_usage(
        session,
        clock,
        [
            event(chat_only, chat_award, 1_000_000, 0),  # HK$2.00, all subsidised
            audio_event(speech_only, speech_award, 5_400_000),  # 1.5 h: HK$54.00
            event(both, both_award, 500_000, 0),  # HK$1.00, half subsidised
            audio_event(both, both_award, 1_800_000),  # 0.5 h: HK$18.00, half
        ],
    )
    card(session, clock)
    audio_card(session, clock)
    post_all_tokens(session, clock)
    funder = actors.staff(Role.FUNDER)
    f = client.get(
        "/api/v1/inference-figures", params={"period": "2026-10"}, headers=funder.headers
    ).json()
    total = f["government_total"]
    assert round(f["government_chat_share"] * total) == 2
    assert round(f["government_transcription_share"] * total) == 2
    assert round(f["government_both_share"] * total) == 1
    government = next(c for c in f["by_category"] if c["category"] == "government")
    assert government["tokens"] == 1_500_000
    assert government["audio_hours"] == 2.0
    assert government["token_subsidy_minor"] == 200 + 50
    assert government["audio_subsidy_minor"] == 5400 + 900
    # Beside the tokens: the audio served and the month's spend on each, at list price.
    assert f["audio_seconds"] == 7_200.0
    assert f["transcription_organisations"] == 2
    assert (f["token_spend_minor"], f["audio_spend_minor"]) == (200 + 100, 5400 + 1800)
    whisper = next(m for m in f["by_model"] if m["name"] == "whisper-1")
    assert (whisper["requests"], whisper["audio_seconds"]) == (2, 7_200.0)
