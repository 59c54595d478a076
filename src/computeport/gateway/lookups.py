"""What the gateway reads per request — keys and deployments — cached for a few seconds.

Why a cache: the hot path must not touch the database per request (issue 13's budget: a few
milliseconds of overhead).  A key is looked up by its SHA-256 once per ``ttl`` seconds per
process, deployments once per ``ttl``; a key revoked in this process is dropped at once
(:meth:`Lookups.forget_key`), in another process within ``ttl`` (``Settings.
gateway_cache_seconds``, the documented bound).  Reads run in a worker thread on a read-only
session, never on the event loop.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.gateway.repository import award_in_force
from computeport.identity.tokens import hash_token
from computeport.models.inference import GatewayKey, ModelDeployment, ModelUpstream, TokenUsage
from computeport.settings import Settings

MAX_CACHED_KEYS = 50_000


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A live key with the limits that apply to it."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    application: str
    award_id: uuid.UUID | None
    award_reference: str | None
    key_rpm: int
    key_tpm: int
    org_rpm: int
    org_tpm: int
    monthly_tokens: int | None
    """The award's monthly budget; None when the organisation has no allowance (no cap)."""
    month_used: int
    """Tokens already metered this month on the award (seeds the shared counter)."""


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    name: str
    owned_by: str
    created: int
    upstreams: tuple[str, ...]
    modality: str = "text"
    """``text`` or ``speech``: which of the gateway's routes may reach it."""


def month_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The start of ``now``'s calendar month in the centre's time zone."""
    local = now.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_label(now: datetime, zone: ZoneInfo) -> str:
    return now.astimezone(zone).strftime("%Y-%m")


class Lookups:
    """Per-process caches of keys (by hash) and deployments (by model name)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ttl = settings.gateway_cache_seconds
        self.zone = ZoneInfo(settings.gateway_budget_timezone)
        self._keys: dict[str, tuple[float, KeyInfo | None]] = {}
        self._deployments: tuple[float, dict[str, DeploymentInfo]] | None = None

    def cached_key(self, plaintext: str) -> tuple[bool, KeyInfo | None]:
        """(hit, info) from the cache only: no I/O, for the event loop."""
        hit = self._keys.get(hash_token(plaintext))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def load_key(self, plaintext: str, now: datetime) -> KeyInfo | None:
        """Read the key from the database (blocking: call from a thread) and cache it."""
        digest = hash_token(plaintext)
        with self.sessions() as session:
            info = self._read_key(session, digest, now)
        if len(self._keys) >= MAX_CACHED_KEYS:  # random bad keys must not grow it forever
            self._keys.clear()
        self._keys[digest] = (time.monotonic(), info)
        return info

    def forget_key(self, key_id: uuid.UUID) -> None:
        for digest, (_, info) in list(self._keys.items()):
            if info is not None and info.id == key_id:
                del self._keys[digest]

    def _read_key(self, session: Session, digest: str, now: datetime) -> KeyInfo | None:
        key = session.scalar(select(GatewayKey).where(GatewayKey.key_hash == digest))
        if key is None or key.revoked_at is not None:
            return None
        s = self.settings
        found = award_in_force(session, key.organisation_id, now)
        award_id, reference, allowance = found if found is not None else (None, None, None)
        used = 0
        if award_id is not None and allowance is not None:
            used = int(
                session.scalar(
                    select(
                        func.coalesce(
                            func.sum(TokenUsage.prompt_tokens + TokenUsage.completion_tokens), 0
                        )
                    ).where(
                        TokenUsage.award_id == award_id,
                        TokenUsage.started_at >= month_start(now, self.zone),
                    )
                )
                or 0
            )
        return KeyInfo(
            id=key.id,
            organisation_id=key.organisation_id,
            application=key.application,
            award_id=award_id,
            award_reference=reference,
            key_rpm=key.requests_per_minute or s.gateway_key_rpm,
            key_tpm=key.tokens_per_minute or s.gateway_key_tpm,
            org_rpm=(allowance.requests_per_minute if allowance else None) or s.gateway_org_rpm,
            org_tpm=(allowance.tokens_per_minute if allowance else None) or s.gateway_org_tpm,
            monthly_tokens=allowance.monthly_tokens if allowance is not None else None,
            month_used=used,
        )

    def cached_deployments(self) -> dict[str, DeploymentInfo] | None:
        cached = self._deployments
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            return None
        return cached[1]

    def load_deployments(self) -> dict[str, DeploymentInfo]:
        """Every active deployment with its enabled upstreams (blocking: call from a thread)."""
        with self.sessions() as session:
            rows = session.execute(
                select(ModelDeployment, ModelUpstream.base_url)
                .join(ModelUpstream, ModelUpstream.deployment_id == ModelDeployment.id)
                .where(ModelDeployment.is_active.is_(True), ModelUpstream.is_enabled.is_(True))
                .order_by(ModelDeployment.name, ModelUpstream.base_url)
            ).all()
        found: dict[str, DeploymentInfo] = {}
        for deployment, url in rows:
            d = found.get(deployment.name)
            urls = (*d.upstreams, url) if d is not None else (url,)
            found[deployment.name] = DeploymentInfo(
                deployment.name,
                deployment.owned_by,
                int(deployment.created_at.timestamp()),
                urls,
                deployment.modality,
            )
        self._deployments = (time.monotonic(), found)
        return found


__all__ = ["DeploymentInfo", "KeyInfo", "Lookups", "month_label", "month_start"]
