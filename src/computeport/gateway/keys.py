"""Gateway keys and model deployments: issuing, revoking, registering (the write side).

A gateway key reads ``cpk_<prefix>_<secret>``: the token format of :mod:`computeport.identity.
tokens` with its own scheme, so a key for the inference API can never pass as a person's API
token or the reverse.  Only its SHA-256 is stored (the secret has 256 bits of entropy, so one
indexed probe per lookup is safe); the plaintext is returned once, by :func:`issue_key`.
Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.gateway.data_policy import known_sites
from computeport.gateway.repository import key_of, keys_of
from computeport.identity.subject import Subject
from computeport.identity.tokens import hash_token
from computeport.kit.clock import Clock
from computeport.kit.errors import Conflict, NotFound, ValidationFailed
from computeport.models.identity import Organisation, Role
from computeport.models.inference import (
    GatewayKey,
    InferenceAllowance,
    ModelDeployment,
    ModelUpstream,
)

KEY_SCHEME = "cpk"
_KEY_RE = re.compile(r"^cpk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
MODALITIES = ("text", "speech")
"""What a deployment serves: chat/completions/embeddings, or transcription and translation."""
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``plaintext`` is shown once and never stored."""

    key: GatewayKey
    plaintext: str


def may_manage_keys(subject: Subject, organisation_id: uuid.UUID) -> bool:
    """Who issues and revokes an organisation's keys: its admin, or an operator (a key spends
    the department's award, so its members may see keys but not make them)."""
    return subject.has_role(Role.OPERATOR) or subject.has_organisation_role(
        organisation_id, Role.ORG_ADMIN
    )


def looks_like_key(value: str) -> bool:
    return _KEY_RE.match(value) is not None


def issue_key(
    session: Session,
    clock: Clock,
    organisation_id: uuid.UUID,
    application: str,
    *,
    created_by: uuid.UUID | None = None,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    plaintext: str | None = None,
) -> IssuedKey:
    """A key for ``application`` of the organisation (its name 1–100 characters).

    ``plaintext`` is for the demo only: its published, derived key (as the demo logins'
    passwords are), so that the README's steps work after a restart; everywhere else the
    secret is drawn here and never known to anyone before it is shown.
    """
    application = application.strip()
    if not 1 <= len(application) <= 100:
        raise ValidationFailed("application: 1 to 100 characters", field="application")
    for name, value in (
        ("requests_per_minute", requests_per_minute),
        ("tokens_per_minute", tokens_per_minute),
    ):
        if value is not None and value < 1:
            raise ValidationFailed(f"{name}: at least 1, got {value}", field=name)
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")
    if plaintext is None:
        plaintext = f"{KEY_SCHEME}_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    elif not looks_like_key(plaintext):
        raise ValidationFailed("plaintext: not a cpk_<prefix>_<secret> key", field="plaintext")
    prefix = plaintext.split("_")[1]
    key = GatewayKey(
        organisation_id=organisation_id,
        application=application,
        prefix=prefix,
        key_hash=hash_token(plaintext),
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
        created_by_id=created_by,
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    return IssuedKey(key, plaintext)


def revoke_key(
    session: Session, clock: Clock, key_id: uuid.UUID, organisation_id: uuid.UUID | None
) -> GatewayKey:
    """Stamp the key revoked (idempotent); ``organisation_id`` None: staff may revoke any."""
    key = key_of(session, key_id, organisation_id)
    if key is None:
        raise NotFound(f"gateway key {key_id} not found", field="key_id")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.flush()
    return key


def organisation_keys(session: Session, organisation_id: uuid.UUID) -> list[GatewayKey]:
    return keys_of(session, organisation_id)


def _check_urls(upstreams: Sequence[str]) -> None:
    for url in upstreams:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
            raise ValidationFailed(f"upstreams: {url!r} is not an http(s) URL", field="upstreams")


def register_deployment(
    session: Session,
    clock: Clock,
    *,
    name: str,
    organisation_id: uuid.UUID,
    accelerator_type: str,
    upstreams: Sequence[str | tuple[str, str | None]],
    award_id: uuid.UUID | None = None,
    modality: str = "text",
    site: str | None = None,
) -> ModelDeployment:
    """A model served at ``upstreams`` (OpenAI-compatible base URLs ending in ``/v1``), each
    a URL (at ``site``) or a (URL, site key) pair; sites are the inventory's (residency).
    ``modality`` ``speech`` for a transcription model (``/v1/audio/…``), else ``text``."""
    if modality not in MODALITIES:
        raise ValidationFailed(
            f"modality: {modality!r} is not one of {', '.join(MODALITIES)}", field="modality"
        )
    if not _MODEL_NAME.match(name):
        raise ValidationFailed(
            f"name: {name!r} is not a model name (letters, digits, . _ : / -)", field="name"
        )
    if not upstreams:
        raise ValidationFailed("upstreams: at least one endpoint", field="upstreams")
    placed = [(u, site) if isinstance(u, str) else u for u in upstreams]
    tagged = [s for _, s in placed if s is not None]
    known_sites(session, tagged, "site")
    _check_urls([url for url, _ in placed])
    if session.scalar(select(ModelDeployment.id).where(ModelDeployment.name == name)):
        raise Conflict(f"a deployment named {name!r} exists", field="name")
    deployment = ModelDeployment(
        name=name,
        organisation_id=organisation_id,
        award_id=award_id,
        accelerator_type=accelerator_type.strip().lower(),
        modality=modality,
        created_at=clock.now(),
    )
    session.add(deployment)
    session.flush()
    for url, at in {u.rstrip("/"): s for u, s in placed}.items():
        session.add(
            ModelUpstream(
                deployment_id=deployment.id,
                base_url=url,
                site_key=at.strip() if at is not None else None,
            )
        )
    session.flush()
    return deployment


def tag_upstreams(
    session: Session,
    clock: Clock,
    deployment_id: uuid.UUID,
    sites: Mapping[str, str | None],
    actor_id: uuid.UUID | None,
) -> ModelDeployment:
    """Tag the deployment's upstreams (by URL) with inventory sites (None: untag) and audit it;
    how an operator places upstreams registered before residency existed."""
    deployment = session.get(ModelDeployment, deployment_id)
    if deployment is None:
        raise NotFound(f"model deployment {deployment_id} not found", field="deployment_id")
    if not sites:
        raise ValidationFailed("sites: name at least one upstream", field="sites")
    known_sites(session, [s for s in sites.values() if s is not None], "sites")
    rows = {
        u.base_url: u
        for u in session.scalars(
            select(ModelUpstream).where(ModelUpstream.deployment_id == deployment_id)
        )
    }
    for url, site in sites.items():
        row = rows.get(url.rstrip("/"))
        if row is None:
            raise ValidationFailed(
                f"sites: {url!r} is not an upstream of {deployment.name!r}", field="sites"
            )
        row.site_key = site.strip() if site is not None else None
    session.flush()
    placed = "; ".join(f"{u} at {s or 'no site'}" for u, s in sorted(sites.items()))
    record_event(session, deployment, "upstream_sites_set", actor_id, placed, clock.now())
    return deployment


def replace_upstreams(
    session: Session, deployment: ModelDeployment, upstreams: Sequence[str]
) -> None:
    """Point ``deployment`` at exactly ``upstreams`` (a server moved: the demo's local one
    on a new port, a Slurm job that ended or started); the gateway follows within its
    cache time."""
    _check_urls(upstreams)
    urls = list(dict.fromkeys(u.rstrip("/") for u in upstreams))
    existing = {
        u.base_url: u
        for u in session.scalars(
            select(ModelUpstream).where(ModelUpstream.deployment_id == deployment.id)
        )
    }
    for url, row in existing.items():
        if url not in urls:
            session.delete(row)
    for url in urls:
        if url not in existing:
            session.add(ModelUpstream(deployment_id=deployment.id, base_url=url))
    session.flush()


def set_allowance(
    session: Session,
    clock: Clock,
    award_id: uuid.UUID,
    monthly_tokens: int,
    *,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
) -> InferenceAllowance:
    """The award's monthly token budget (and per-minute limits for its organisation)."""
    if monthly_tokens < 0:
        raise ValidationFailed("monthly_tokens: must not be negative", field="monthly_tokens")
    row = session.scalar(select(InferenceAllowance).where(InferenceAllowance.award_id == award_id))
    if row is None:
        row = InferenceAllowance(award_id=award_id, monthly_tokens=0, created_at=clock.now())
        session.add(row)
    row.monthly_tokens = monthly_tokens
    row.requests_per_minute = requests_per_minute
    row.tokens_per_minute = tokens_per_minute
    session.flush()
    return row


__all__ = [
    "KEY_SCHEME",
    "IssuedKey",
    "issue_key",
    "looks_like_key",
    "may_manage_keys",
    "organisation_keys",
    "register_deployment",
    "replace_upstreams",
    "revoke_key",
    "set_allowance",
    "tag_upstreams",
]
