"""Transcription under the same admission and data policy as chat, against the real
faster-whisper-server, on both engines: a department's money budget refuses a transcription
whose hold (the upload's duration × the audio-minute price) does not fit and forwards nothing;
a served one settles at exactly what its invoice charges; and residency refuses a speech model
served only at a site the department may not use, before anything is forwarded or metered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openai
import pytest
from openai import OpenAI
from sqlalchemy import Engine, select

from computeport.billing.token_rating import audio_charge_minor, post_token_usage
from computeport.gateway.budget_admin import set_budget
from computeport.gateway.budgets import audio_bound_minor
from computeport.gateway.data_policy import set_policy
from computeport.gateway.keys import register_deployment, tag_upstreams
from computeport.gateway.speech_probe import header_seconds
from computeport.models.centre import CentreSite
from computeport.models.inference import BudgetScope, ModelDeployment, TokenCharge
from computeport.pricing.book import AudioPrice
from tests.factories.inference import EPOCH, audio_card
from tests.gateway.rig import Department, GatewayRig, add_department, build_rig, poll
from tests.gateway.whisper_upstream import SpeechUpstream

PRICE = AudioPrice(uuid.uuid4(), "whisper-1", Decimal("0.60"), EPOCH)
"""What ``audio_card`` puts on the rate card: HK$0.60 a minute."""


@pytest.fixture(scope="module")
def rig(gateway_engine: Engine, whisper: SpeechUpstream) -> Iterator[GatewayRig]:
    """whisper-1 (priced) served at Cyberport; whisper-sandy only at Sandy Ridge (the same
    server: a request that reached it would be answered, so a refusal is the gateway's)."""
    served = build_rig(
        gateway_engine,
        ["http://127.0.0.1:9/v1"],
        speech_deployments={"whisper-1": [whisper.base_url]},
    )
    with served.sessions.begin() as s:
        for key in ("cyberport", "sandy-ridge"):
            s.add(CentreSite(key=key, name=key.title(), status="operating"))
        s.flush()
        speech = s.scalars(select(ModelDeployment).where(ModelDeployment.name == "whisper-1")).one()
        tag_upstreams(s, served.clock, speech.id, {whisper.base_url: "cyberport"}, None)
        register_deployment(
            s,
            served.clock,
            name="whisper-sandy",
            organisation_id=speech.organisation_id,
            accelerator_type="cpu",
            upstreams=[(whisper.base_url, "sandy-ridge")],
            modality="speech",
        )
        audio_card(s, served.clock)
    served.gateway.lookups.load_deployments()  # the deployments and the rate card, re-read
    yield served
    served.stop()


def client(rig: GatewayRig, dept: Department) -> OpenAI:
    return OpenAI(base_url=rig.base_url, api_key=dept.key, max_retries=0)


def department_budget(rig: GatewayRig, dept: Department, minor: int) -> None:
    with rig.sessions.begin() as s:
        set_budget(s, rig.clock, dept.organisation_id, BudgetScope.DEPARTMENT, minor)
    rig.gateway.lookups.forget_key(dept.key_id)


def metered(rig: GatewayRig, dept: Department) -> list[str]:
    return [r.request_id for r in rig.settle() if r.organisation_id == dept.organisation_id]


def test_a_department_budget_holds_the_audio_bound_and_settles_at_the_charge(
    rig: GatewayRig, clips: dict[str, Path]
) -> None:
    dept = add_department(rig.sessions, rig.clock)
    seconds = header_seconds(clips["en"].read_bytes())
    assert seconds is not None
    assert seconds > 5
    bound = audio_bound_minor(PRICE, Decimal(repr(seconds)))
    assert bound > 0
    department_budget(rig, dept, bound - 1)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client(rig, dept).audio.transcriptions.create(model="whisper-1", file=clips["en"])
    body = refused.value.body
    assert isinstance(body, dict)
    assert body["code"] == "department_budget_exceeded"
    assert refused.value.response.headers["x-budget-scope"] == "department"
    assert metered(rig, dept) == []  # refused before forwarding: nothing metered or billed

    department_budget(rig, dept, bound)  # the hold fits exactly
    raw = client(rig, dept).audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=clips["en"]
    )
    assert "fox" in raw.parse().text.lower()
    row = rig.row(raw.headers["x-request-id"])
    charge = audio_charge_minor(PRICE, row.audio_ms)
    assert charge > 0
    levels = rig.gateway.quotas.store.levels
    (slot,) = [k for k in levels if k.endswith(f"d:{dept.organisation_id.hex}")]
    poll("the hold settled", lambda: levels[slot].held == 0, timeout_s=30)
    assert levels[slot].spent == charge  # the budget counted what the invoice will charge
    with rig.sessions.begin() as s:
        while post_token_usage(s, rig.clock).records:
            pass
    with rig.sessions() as s:
        rated = s.scalar(select(TokenCharge.list_minor).where(TokenCharge.usage_id == row.id))
    assert rated == charge


def test_residency_refuses_a_speech_model_served_only_at_a_disallowed_site(
    rig: GatewayRig, clips: dict[str, Path]
) -> None:
    dept = add_department(rig.sessions, rig.clock)
    with rig.sessions.begin() as s:
        set_policy(
            s,
            rig.clock,
            dept.organisation_id,
            redact=True,
            allowed_sites=["cyberport"],
            actor_id=None,
        )
    rig.gateway.lookups.forget_organisation(dept.organisation_id)
    c = client(rig, dept)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        c.audio.transcriptions.create(model="whisper-sandy", file=clips["en"])
    body = refused.value.body
    assert isinstance(body, dict)
    assert (body["code"], body["param"]) == ("site_not_allowed", "model")
    assert "cyberport" in body["message"]
    assert "sandy-ridge" in body["message"]
    assert metered(rig, dept) == []  # refused before forwarding or holding
    served = c.audio.transcriptions.create(model="whisper-1", file=clips["en"])  # at Cyberport
    assert "fox" in served.text.lower()  # redaction on: the audio still goes as it is
