"""Redaction and residency through the gateway in front of real llama.cpp upstreams, each
behind a recording proxy that keeps what crossed the wire: a department with redaction on never
has an HKID, a phone number or an e-mail address reach an upstream (chat plain and streamed,
content parts, completions, embeddings), and the count is metered; a department restricted to
one site is served only there, refused (403, the OpenAI shape) for a model served elsewhere,
and sees only what it may use in ``/v1/models``; an unrestricted one is served round robin
across both sites."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI
from sqlalchemy import Engine

from computeport.db.engine import make_session_factory
from computeport.gateway.data_policy import set_policy
from computeport.gateway.keys import register_deployment
from computeport.kit.clock import ManualClock
from computeport.models.centre import CentreSite
from computeport.models.identity import OrganisationCategory, Role
from tests.factories import identity as identity_factory
from tests.gateway.recording_proxy import RecordingProxy
from tests.gateway.rig import NOW, GatewayRig, Upstream, add_department, serve

HKID, PHONE, EMAIL = "A123456(3)", "+852 9123 4567", "chan.tai-man@dpo.gov.hk"
PERSONAL = f"I am {HKID}, call {PHONE} or write to {EMAIL}."


@pytest.fixture(scope="module")
def proxies(upstreams: list[Upstream]) -> Iterator[dict[str, RecordingProxy]]:
    started = {
        "cyberport": RecordingProxy(upstreams[0].base_url).start(),
        "sandy-ridge": RecordingProxy(upstreams[1].base_url).start(),
    }
    yield started
    for proxy in started.values():
        proxy.stop()


@pytest.fixture(scope="module")
def sited(gateway_engine: Engine, proxies: dict[str, RecordingProxy]) -> Iterator[GatewayRig]:
    """``assistant`` served at both sites, ``sandy-only`` at Sandy Ridge; department ``hk``
    redacts and is restricted to Cyberport, ``free`` has no policy."""
    clock = ManualClock(NOW)
    sessions = make_session_factory(gateway_engine)
    with sessions.begin() as s:
        for key in proxies:
            s.add(CentreSite(key=key, name=key.title(), status="operating"))
        s.flush()
        owner = identity_factory.organisation(s, category=OrganisationCategory.RD_CENTRE)
        at = [(p.base_url, site) for site, p in proxies.items()]
        for name, upstreams in (("assistant", at), ("sandy-only", at[1:])):
            register_deployment(
                s,
                clock,
                name=name,
                organisation_id=owner.id,
                accelerator_type="h800",
                upstreams=upstreams,
            )
    hk, free = add_department(sessions, clock), add_department(sessions, clock)
    with sessions.begin() as s:
        set_policy(
            s, clock, hk.organisation_id, redact=True, allowed_sites=["cyberport"], actor_id=None
        )
    url, app, server, thread = serve(gateway_engine, clock)
    rig = GatewayRig(
        url, gateway_engine, sessions, clock, app, server, thread, {"hk": hk, "free": free}
    )
    yield rig
    rig.stop()


@pytest.fixture
def wire(proxies: dict[str, RecordingProxy]) -> dict[str, RecordingProxy]:
    """The proxies, emptied of earlier tests' requests."""
    for proxy in proxies.values():
        proxy.bodies.clear()
    return proxies


def client(rig: GatewayRig, dept: str) -> OpenAI:
    return OpenAI(base_url=rig.base_url, api_key=rig.departments[dept].key, max_retries=0)


def test_identifiers_never_reach_the_upstream_and_are_counted(
    sited: GatewayRig, wire: dict[str, RecordingProxy]
) -> None:
    c = client(sited, "hk")
    plain = c.chat.completions.create(
        model="assistant",
        messages=[
            {"role": "system", "content": f"The user's ID is {HKID}."},
            {"role": "user", "content": [{"type": "text", "text": PERSONAL}]},
        ],
        max_tokens=2,
    )
    list(
        c.chat.completions.create(
            model="assistant",
            messages=[{"role": "user", "content": PERSONAL}],
            stream=True,
            max_tokens=2,
        )
    )
    done = c.completions.create(
        model="assistant", prompt=[PERSONAL, "no identifiers"], max_tokens=2
    )
    c.embeddings.create(model="assistant", input=PERSONAL)
    sent = wire["cyberport"].received()
    assert len(wire["cyberport"].bodies) == 4
    assert wire["sandy-ridge"].bodies == []  # residency
    for value in (HKID, PHONE, EMAIL, "A123456", "9123 4567", "dpo.gov.hk"):
        assert value not in sent
    assert sent.count("[REDACTED_HKID]") == 5
    assert sent.count("[REDACTED_PHONE]") == 4
    assert sent.count("[REDACTED_EMAIL]") == 4
    assert "no identifiers" in sent  # the rest of the prompt goes as it was
    assert sited.row(plain._request_id).redactions == 4
    assert sited.row(done._request_id).redactions == 3
    rows = [
        r for r in sited.settle() if r.organisation_id == sited.departments["hk"].organisation_id
    ]
    assert sorted((r.endpoint, r.streamed, r.redactions) for r in rows) == [
        ("chat.completions", False, 4),
        ("chat.completions", True, 3),
        ("completions", False, 3),
        ("embeddings", False, 3),
    ]


def test_without_redaction_the_prompt_goes_as_written(
    sited: GatewayRig, wire: dict[str, RecordingProxy]
) -> None:
    """The proxies see raw values when nothing redacts them: the test above can fail."""
    r = client(sited, "free").chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": PERSONAL}], max_tokens=2
    )
    sent = "".join(p.received() for p in wire.values())
    assert HKID in sent
    assert EMAIL in sent
    assert sited.row(r._request_id).redactions == 0


def test_a_department_is_served_only_at_its_allowed_sites(
    sited: GatewayRig, wire: dict[str, RecordingProxy]
) -> None:
    hk, free = client(sited, "hk"), client(sited, "free")
    assert [m.id for m in hk.models.list()] == ["assistant"]
    assert sorted(m.id for m in free.models.list()) == ["assistant", "sandy-only"]
    for c in (hk, free):
        for _ in range(4):
            c.embeddings.create(model="assistant", input="residency")
    assert len(wire["cyberport"].bodies) == 6  # hk's four, free's two
    assert len(wire["sandy-ridge"].bodies) == 2  # free: round robin over both sites
    with pytest.raises(openai.PermissionDeniedError) as refused:
        hk.embeddings.create(model="sandy-only", input="residency")
    body = refused.value.body
    assert isinstance(body, dict)
    assert body["code"] == "site_not_allowed"
    assert body["param"] == "model"
    assert "cyberport" in body["message"]
    assert "sandy-ridge" in body["message"]
    assert len(wire["sandy-ridge"].bodies) == 2  # nothing forwarded
    models = {r.model for r in sited.settle()}
    assert "sandy-only" not in models  # refused before forwarding: not metered


def test_an_operator_changes_the_policy_and_the_next_request_follows_it(
    sited: GatewayRig, wire: dict[str, RecordingProxy]
) -> None:
    free = sited.departments["free"]
    with sited.sessions.begin() as s:
        operator = identity_factory.user(s, roles=(Role.OPERATOR,), at=sited.clock.now())
        token = identity_factory.token(s, operator, at=sited.clock.now())
    c = client(sited, "free")
    c.embeddings.create(model="assistant", input="warm the key cache")
    url = f"{sited.url}/api/v1/organisations/{free.organisation_id}/data-policy"
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.put(url, json={"redact": True, "allowed_sites": ["sandy-ridge"]}, headers=headers)
    assert r.status_code == 200, r.text
    try:
        wire["sandy-ridge"].bodies.clear()
        c.embeddings.create(model="assistant", input=f"mine: {EMAIL}")
        sent = [json.loads(b) for b in wire["sandy-ridge"].bodies]
        assert [b["input"] for b in sent] == ["mine: [REDACTED_EMAIL]"]
    finally:
        httpx.put(url, json={"redact": False, "allowed_sites": None}, headers=headers)
