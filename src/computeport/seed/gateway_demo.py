"""The demo's inference service: a government department calling a served model.

Issue 13's story in the demo: the R&D centre that runs the government's chat assistant serves
a model through the gateway, and a government department (the seeded one holding an award)
calls it from its own application with a key, the ``openai`` client and nothing else.  This
step adds, idempotently, on top of the Cyberport seed:

* the deployment of :data:`DEMO_MODEL` (owned by the R&D centre, under its award) at the
  given upstream URLs — replaced on every start, because the demo's local server may move;
* the speech deployment :data:`DEMO_SPEECH_MODEL` (issue 21: the department transcribes
  Cantonese and English with the same key), likewise;
* a monthly token allowance on the department's award (kept if an operator changed it);
* the department's admin login (:func:`~computeport.seed.demo.department_login`);
* the application's key, the published demo key (:func:`~computeport.seed.demo.
  demo_gateway_key`), never re-issued once revoked (revoking it is part of the demo).

The model's token price and the speech model's audio-minute price are in the scenario's rate
card (``cyberport.toml``), so the department's requests are rated, split under its award and
invoiced like any usage (``tokens:`` and ``audio:`` lines).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from computeport.gateway.keys import (
    issue_key,
    register_deployment,
    replace_upstreams,
    set_allowance,
)
from computeport.identity.tokens import hash_token
from computeport.kit.clock import Clock
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Organisation, OrganisationCategory, Role
from computeport.models.inference import GatewayKey, InferenceAllowance, ModelDeployment
from computeport.seed.cyberport import demo_user, grant_once
from computeport.seed.demo import demo_gateway_key, department_login

DEMO_MODEL = "smollm2-135m-instruct"
"""What the demo serves on this machine (SmolLM2-135M on llama.cpp); priced in the rate card."""
DEMO_SPEECH_MODEL = "whisper-1"
"""The demo's transcription model (Whisper base on faster-whisper-server); priced per audio
minute in the rate card."""
DEMO_APPLICATION = "Policy assistant (demo)"
DEMO_MONTHLY_TOKENS = 50_000_000
SERVING_ORGANISATION = "Harbourview Generative AI R&D Centre (assumed name)"
"""The seeded R&D centre whose project serves the government's chat assistant."""


@dataclass(frozen=True)
class GatewayDemo:
    """What the terminal prints and the README's steps use."""

    department: str
    organisation_id: uuid.UUID
    award_reference: str
    model: str
    upstreams: tuple[str, ...]
    key: str
    key_revoked: bool
    speech_model: str = DEMO_SPEECH_MODEL
    speech_upstreams: tuple[str, ...] = ()


def _in_force(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Award.status == AwardStatus.ACTIVE, Award.starts_at <= now, Award.ends_at > now)


def _active_award(session: Session, clock: Clock, organisation_id: uuid.UUID) -> Award | None:
    return session.scalar(
        select(Award)
        .where(Award.organisation_id == organisation_id, *_in_force(clock.now()))
        .order_by(Award.reference)
        .limit(1)
    )


def demo_department(session: Session, clock: Clock) -> tuple[Organisation, Award]:
    """The first government department (by award reference) with an award in force."""
    row = session.execute(
        select(Organisation, Award)
        .join(Award, Award.organisation_id == Organisation.id)
        .where(Organisation.category == OrganisationCategory.GOVERNMENT, *_in_force(clock.now()))
        .order_by(Award.reference)
        .limit(1)
    ).first()
    if row is None:
        raise LookupError(
            "no government department holds an award in force: seed the Cyberport scenario "
            "first (computeport seed cyberport)"
        )
    return row[0], row[1]


def _department_admin(session: Session, clock: Clock, department: Organisation) -> None:
    user, _ = demo_user(session, department_login(), clock.now())
    grant_once(session, user, Role.ORG_ADMIN, department.id, clock.now())


def _deployment(
    session: Session,
    clock: Clock,
    model: str,
    upstreams: Sequence[str],
    modality: str = "text",
) -> None:
    found = session.scalar(select(ModelDeployment).where(ModelDeployment.name == model))
    if found is not None:
        replace_upstreams(session, found, upstreams)
        return
    owner = session.scalar(select(Organisation).where(Organisation.name == SERVING_ORGANISATION))
    if owner is None:
        raise LookupError(f"{SERVING_ORGANISATION!r} is not seeded (computeport seed cyberport)")
    award = _active_award(session, clock, owner.id)
    register_deployment(
        session,
        clock,
        name=model,
        organisation_id=owner.id,
        accelerator_type="h800",
        upstreams=upstreams,
        award_id=award.id if award is not None else None,
        modality=modality,
    )


def seed_gateway_demo(
    session: Session,
    clock: Clock,
    upstreams: Sequence[str],
    model: str = DEMO_MODEL,
    speech_upstreams: Sequence[str] = (),
) -> GatewayDemo:
    """Add the demo's inference service (idempotent; the caller commits); with
    ``speech_upstreams``, the transcription model too."""
    department, award = demo_department(session, clock)
    _deployment(session, clock, model, upstreams)
    if speech_upstreams:
        _deployment(session, clock, DEMO_SPEECH_MODEL, speech_upstreams, modality="speech")
    allowance = session.scalar(
        select(InferenceAllowance.id).where(InferenceAllowance.award_id == award.id)
    )
    if allowance is None:
        set_allowance(session, clock, award.id, DEMO_MONTHLY_TOKENS)
    _department_admin(session, clock, department)
    plaintext = demo_gateway_key()
    key = session.scalar(select(GatewayKey).where(GatewayKey.key_hash == hash_token(plaintext)))
    if key is None:
        key = issue_key(session, clock, department.id, DEMO_APPLICATION, plaintext=plaintext).key
    session.flush()
    return GatewayDemo(
        department=department.name,
        organisation_id=department.id,
        award_reference=award.reference,
        model=model,
        upstreams=tuple(upstreams),
        key=plaintext,
        key_revoked=key.revoked_at is not None,
        speech_upstreams=tuple(speech_upstreams),
    )


__all__ = [
    "DEMO_APPLICATION",
    "DEMO_MODEL",
    "DEMO_SPEECH_MODEL",
    "GatewayDemo",
    "demo_department",
    "seed_gateway_demo",
]
