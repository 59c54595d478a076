"""Counting failed sign-ins and failed API token checks, and refusing once there are too many.

The counting is the ``limits`` library's moving window (no burst at a fixed window's edge: at
most N failures in *any* span of the window's length).  The counters live in a ``limits``
storage named by ``Settings.rate_limit_storage``: ``memory://`` counts in this process (the
embedded default, one API process); ``redis://…`` is shared by every API process of a
deployment, so that an attacker gains nothing by spreading guesses over the processes behind
the reverse proxy.

Only failures are counted (a user who signs in right is never slowed down), and a key that has
reached its limit is refused *before* the credential is checked, so a locked account cannot be
probed at all.  Keys are hashed: the store never holds an email address, and an odd one (NUL,
``/``) cannot collide with another key.

This module decides nothing about users or audit trails (it sits below the domains); the
callers (``identity.throttling``, ``identity.auth``) audit what it reports.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from computeport.settings import Settings


class Scope(StrEnum):
    """What a counter counts failures of, and per what."""

    LOGIN_ACCOUNT = "login_account"
    """Failed sign-ins per email address as typed (known or not: the answer must not tell)."""
    LOGIN_ADDRESS = "login_address"
    """Failed sign-ins per client address (one address trying many accounts)."""
    TOKEN_ADDRESS = "token_address"  # noqa: S105 - a counter's name, not a secret
    """Failed API token checks per client address."""


@dataclass(frozen=True)
class Refusal:
    """A key over its limit: which one, and how long until an attempt is let through again."""

    scope: Scope
    retry_after_seconds: int

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


def client_address(connection: HTTPConnection) -> str:
    """The peer's address as the server sees it.

    Behind a reverse proxy this is the proxy, unless the server is told to trust its
    ``X-Forwarded-For`` (uvicorn ``--proxy-headers --forwarded-allow-ips``); then it is the
    client's, which is what the per-address limits should count.
    """
    return connection.client.host if connection.client is not None else "unknown"


class Throttle:
    """Moving-window failure counters per :class:`Scope` and key, in one ``limits`` storage."""

    def __init__(
        self,
        storage: Storage,
        limits: Mapping[Scope, RateLimitItem],
        *,
        prefix: str = "computeport",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.limits = dict(limits)
        self.prefix = prefix
        self._limiter = MovingWindowRateLimiter(storage)
        self._now = now  # only to turn the storage's reset time into a Retry-After

    @property
    def is_local(self) -> bool:
        """Whether the counters live in this process (a check costs no I/O)."""
        return isinstance(self.storage, MemoryStorage)

    @classmethod
    def from_settings(cls, settings: Settings) -> Throttle:
        """The storage and the three limits a deployment configured (``COMPUTEPORT_*``)."""
        limits = {
            Scope.LOGIN_ACCOUNT: _limit(settings.login_limit_account, "login_limit_account"),
            Scope.LOGIN_ADDRESS: _limit(settings.login_limit_address, "login_limit_address"),
            Scope.TOKEN_ADDRESS: _limit(settings.token_limit_address, "token_limit_address"),
        }
        storage = storage_from_string(settings.rate_limit_storage)
        if not isinstance(storage, Storage):  # an ``async+…`` URI: not for sync code
            raise ValueError(
                f"COMPUTEPORT_RATE_LIMIT_STORAGE: {settings.rate_limit_storage!r} is an async "
                "storage; use memory:// or redis://…"
            )
        return cls(storage, limits, prefix=settings.rate_limit_prefix)

    def _ids(self, scope: Scope, key: str) -> tuple[str, str, str]:
        digest = hashlib.sha256(key.strip().lower().encode("utf-8", "replace")).hexdigest()
        return self.prefix, scope.value, digest[:32]

    def refusal(self, scope: Scope, key: str) -> Refusal | None:
        """A :class:`Refusal` when ``key`` has used up its failures, else ``None``."""
        item = self.limits[scope]
        ids = self._ids(scope, key)
        if self._limiter.test(item, *ids):
            return None
        reset = self._limiter.get_window_stats(item, *ids).reset_time
        return Refusal(scope, max(1, math.ceil(reset - self._now())))

    def first_refusal(self, *keys: tuple[Scope, str]) -> Refusal | None:
        """The first of ``keys`` that is over its limit, if any."""
        for scope, key in keys:
            refused = self.refusal(scope, key)
            if refused is not None:
                return refused
        return None

    def fail(self, scope: Scope, key: str) -> bool:
        """Count one failure; ``True`` when this one used up the key's allowance (a lockout
        begins now, and the caller audits it)."""
        item = self.limits[scope]
        ids = self._ids(scope, key)
        self._limiter.hit(item, *ids)
        return not self._limiter.test(item, *ids)

    def failures_left(self, scope: Scope, key: str) -> int:
        item = self.limits[scope]
        return self._limiter.get_window_stats(item, *self._ids(scope, key)).remaining

    def clear(self, scope: Scope, key: str) -> None:
        """Forget ``key``'s failures (a successful sign-in clears its account's count)."""
        self._limiter.clear(self.limits[scope], *self._ids(scope, key))


def _limit(text: str, setting: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(
            f"COMPUTEPORT_{setting.upper()}: {text!r} is not a limit such as '5 per 15 minutes'"
        ) from exc
