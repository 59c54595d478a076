"""What the gateway reads per request — keys and deployments — cached for a few seconds.

Why a cache: the hot path must not touch the database per request (issue 13's budget: a few
milliseconds of overhead).  A key is looked up by its SHA-256 once per ``ttl`` seconds per
process, deployments once per ``ttl``; a key revoked in this process is dropped at once
(:meth:`Lookups.forget_key`), in another process within ``ttl`` (``Settings.
gateway_cache_seconds``, the documented bound).  Reads run in a worker thread on a read-only
session, never on the event loop.

Why one read at a time and ahead of time: at 64 requests in flight, an entry that expired
sent every one of them to the database at once — 64 identical reads, each summing the
month's spend three times — and stalled them all behind it.  Now concurrent requests share
one read (:meth:`Lookups.key`, :meth:`Lookups.deployments`), and an entry past half its
``ttl`` is read again in the background while requests go on with it, so a steady key never
waits for the database and its answer is never older than ``ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from computeport.gateway.budgets import BudgetLine, UsagePricer, period_label, period_start
from computeport.gateway.repository import award_in_force, budgets_of_key, policy_of, spent_minor
from computeport.identity.tokens import hash_token
from computeport.models.inference import (
    BudgetScope,
    GatewayBudget,
    GatewayKey,
    ModelDeployment,
    ModelUpstream,
    TokenUsage,
)
from computeport.pricing.book import AudioPrice, PriceBook, TokenPrice
from computeport.settings import Settings

log = logging.getLogger(__name__)
MAX_CACHED_KEYS = 50_000
_DEPLOYMENTS = "deployments"
"""The name deployments' read goes under among the reads under way (keys go by digest)."""


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
    redact: bool = False
    """The organisation's data policy: redact identifiers in prompts."""
    allowed_sites: frozenset[str] | None = None
    """The organisation's data policy: the sites that may serve it; None: any."""
    budgets: tuple[BudgetLine, ...] = ()
    """The money budgets its requests draw on (key, application, department), if set."""
    budget_period: str = ""
    """The period (``YYYY-MM``, Hong Kong) the budgets' ``spent_minor`` were read for."""


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    name: str
    owned_by: str
    created: int
    upstreams: tuple[str, ...]
    modality: str = "text"
    """``text`` or ``speech``: which of the gateway's routes may reach it."""
    sites: tuple[str | None, ...] = ()
    """Each upstream's site key, in the order of ``upstreams`` (None: not tagged)."""


class Lookups:
    """Per-process caches of keys (by hash) and deployments (by model name)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.monotonic = monotonic
        """The cache's clock (an entry's age), injected by tests."""
        self.settings = settings
        self.ttl = settings.gateway_cache_seconds
        self.zone = ZoneInfo(settings.gateway_budget_timezone)
        self._keys: dict[str, tuple[float, KeyInfo | None]] = {}
        self._deployments: tuple[float, dict[str, DeploymentInfo]] | None = None
        self._book = PriceBook([])
        self._reading: dict[str, asyncio.Task[Any]] = {}
        """Reads under way, by key digest (or :data:`_DEPLOYMENTS`): one each at a time."""
        self._dropped_reads: set[asyncio.Task[Any]] = set()
        """Reads under way when entries were dropped: no request joins them; shutdown waits."""
        self._generation = 0
        """Bumped when entries are dropped (a key revoked, a policy or upstream changed): a
        read begun before then answers its own request but is not cached."""

    async def key(self, plaintext: str, now: datetime) -> KeyInfo | None:
        """The key's limits, budgets and policy (None: unknown or revoked), from the cache
        while it is fresh; read once for every request waiting when it is missing or expired."""
        digest = hash_token(plaintext)
        hit = self._keys.get(digest)

        def read() -> KeyInfo | None:
            return self._load_key(digest, now)

        if self._fresh(hit, read, digest):
            assert hit is not None
            return hit[1]
        info: KeyInfo | None = await self._read_once(digest, read)
        return info

    async def deployments(self) -> dict[str, DeploymentInfo]:
        """Every active deployment by model name, cached as keys are."""
        hit = self._deployments
        if self._fresh(hit, self.load_deployments, _DEPLOYMENTS):
            assert hit is not None
            return hit[1]
        found: dict[str, DeploymentInfo] = await self._read_once(
            _DEPLOYMENTS, self.load_deployments
        )
        return found

    def _fresh(self, hit: tuple[float, Any] | None, read: Callable[[], Any], name: str) -> bool:
        """Whether ``hit`` may be served; past half its ``ttl`` it is read again meanwhile."""
        age = self.monotonic() - hit[0] if hit is not None else math.inf
        if age > self.ttl:
            return False
        if age > self.ttl / 2 and name not in self._reading:
            self._start_read(name, read).add_done_callback(_log_failure)
        return True

    async def _read_once(self, name: str, read: Callable[[], Any]) -> Any:
        """``read``'s answer, sharing a read already under way (with a ``ttl`` of 0 every
        request reads for itself: an answer begun before it arrived could be stale)."""
        task = self._reading.get(name) if self.ttl > 0 else None
        if task is None:
            task = self._start_read(name, read)
        return await asyncio.shield(task)

    def _start_read(self, name: str, read: Callable[[], Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(run_in_threadpool(read))
        self._reading[name] = task

        def done(_: asyncio.Task[Any]) -> None:
            if self._reading.get(name) is task:
                del self._reading[name]

        task.add_done_callback(done)
        return task

    def _dropped(self) -> None:
        """Entries were dropped: reads under way may hold what was dropped, so later
        requests do not join them and their answers are not cached."""
        self._generation += 1
        for task in self._reading.values():
            self._dropped_reads.add(task)
            task.add_done_callback(self._dropped_reads.discard)
        self._reading.clear()

    async def close(self) -> None:
        """Wait for the reads under way (before the engine they use is disposed)."""
        reads = [*self._reading.values(), *self._dropped_reads]
        await asyncio.gather(*reads, return_exceptions=True)

    def _load_key(self, digest: str, now: datetime) -> KeyInfo | None:
        """Read the key from the database (blocking: runs in a thread) and cache it."""
        generation, read_at = self._generation, self.monotonic()
        with self.sessions() as session:
            info = self._read_key(session, digest, now)
        if generation == self._generation:
            if len(self._keys) >= MAX_CACHED_KEYS:  # random bad keys must not grow it forever
                self._keys.clear()
            self._keys[digest] = (read_at, info)
        return info

    def forget_key(self, key_id: uuid.UUID) -> None:
        self._forget(lambda info: info.id == key_id)

    def forget_organisation(self, organisation_id: uuid.UUID) -> None:
        """Drop the organisation's cached keys (its data policy changed): this process reads
        the new policy on its next request, the others within ``ttl``."""
        self._forget(lambda info: info.organisation_id == organisation_id)

    def _forget(self, matches: Callable[[KeyInfo], bool]) -> None:
        self._dropped()
        for digest, (_, info) in list(self._keys.items()):
            if info is not None and matches(info):
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
                        TokenUsage.started_at >= period_start(now, self.zone),
                    )
                )
                or 0
            )
        policy = policy_of(session, key.organisation_id)
        sites = policy.sites if policy is not None else None
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
            redact=policy.redact if policy is not None else False,
            allowed_sites=frozenset(sites) if sites is not None else None,
            budgets=self._budget_lines(session, key, now),
            budget_period=period_label(now, self.zone),
        )

    def forget_deployments(self) -> None:
        """Read the deployments again on the next request (their upstreams changed)."""
        self._dropped()
        self._deployments = None

    def _budget_lines(
        self, session: Session, key: GatewayKey, now: datetime
    ) -> tuple[BudgetLine, ...]:
        rows = budgets_of_key(session, key.organisation_id, key.id, key.application)
        if not rows:
            return ()
        price = UsagePricer(PriceBook.load(session))
        since = period_start(now, self.zone)

        org = key.organisation_id
        lines = []
        for b in sorted(rows, key=lambda r: _SCOPE_ORDER[r.scope]):
            lines.append(
                BudgetLine(
                    b.scope,
                    _label(b, key),
                    _slot(b, org.hex),
                    b.monthly_minor,
                    spent_minor(
                        session,
                        org,
                        since,
                        price,
                        key_id=key.id if b.scope == BudgetScope.KEY else None,
                        application=b.subject if b.scope == BudgetScope.APPLICATION else None,
                    ),
                )
            )
        return tuple(lines)

    def load_deployments(self) -> dict[str, DeploymentInfo]:
        """Every active deployment with its enabled upstreams (blocking: call from a thread)."""
        generation, read_at = self._generation, self.monotonic()
        with self.sessions() as session:
            book = PriceBook.load(session)
            rows = session.execute(
                select(ModelDeployment, ModelUpstream.base_url, ModelUpstream.site_key)
                .join(ModelUpstream, ModelUpstream.deployment_id == ModelDeployment.id)
                .where(ModelDeployment.is_active.is_(True), ModelUpstream.is_enabled.is_(True))
                .order_by(ModelDeployment.name, ModelUpstream.base_url)
            ).all()
        found: dict[str, DeploymentInfo] = {}
        for deployment, url, site in rows:
            d = found.get(deployment.name)
            urls = (*d.upstreams, url) if d is not None else (url,)
            sites = (*d.sites, site) if d is not None else (site,)
            found[deployment.name] = DeploymentInfo(
                deployment.name,
                deployment.owned_by,
                int(deployment.created_at.timestamp()),
                urls,
                deployment.modality,
                sites,
            )
        if generation == self._generation:
            self._book = book
            self._deployments = (read_at, found)
        return found

    def token_price(self, model: str, at: datetime) -> TokenPrice | None:
        """The model's token price in force at ``at``, from the rate card read with the
        deployments (no I/O: the book is refreshed with them every ``ttl``)."""
        return self._book.token_price(model, at.timestamp())

    def audio_price(self, model: str, at: datetime) -> AudioPrice | None:
        """The speech model's price per audio minute in force at ``at`` (no I/O, as above)."""
        return self._book.audio_price(model, at.timestamp())


def _log_failure(task: asyncio.Task[Any]) -> None:
    """A background read that failed leaves the cached entry to expire (then a request reads
    and hears the failure itself)."""
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "gateway: a cached key or deployment list could not be read again",
            exc_info=task.exception(),
        )


_SCOPE_ORDER = {BudgetScope.KEY: 0, BudgetScope.APPLICATION: 1, BudgetScope.DEPARTMENT: 2}


def _label(budget: GatewayBudget, key: GatewayKey) -> str:
    if budget.scope == BudgetScope.KEY:
        return f"key cpk_{key.prefix}"
    if budget.scope == BudgetScope.APPLICATION:
        return f"application {budget.subject!r}"
    return "the department"


def _slot(budget: GatewayBudget, org: str) -> str:
    """The budget's counter, shared by every key it covers (the month is added by admission)."""
    if budget.scope == BudgetScope.KEY:
        return f"k:{budget.subject}"
    if budget.scope == BudgetScope.APPLICATION:
        return f"a:{org}:{budget.subject}"
    return f"d:{org}"


__all__ = ["DeploymentInfo", "KeyInfo", "Lookups"]
