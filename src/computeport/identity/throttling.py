"""Sign-in and API token failures: counted (``http.throttle``), refused when too many, audited.

A password may be guessed only a few times per account and per client address in any window
(``Settings.login_limit_*``); after that every attempt on that account or from that address is
refused, with the password left unchecked, until the window moves on.  The account key is the
email *as typed*, whether or not a user has it, and the refusal reads the same either way: the
answer never tells an attacker which emails exist.

Every failure and every lockout leaves an audit row.  The row names what was attacked: an
email (``entity_type`` ``sign_in_email``) or a client address (``client_address``), each
identified by a UUIDv5 of the value, so an auditor can list one account's or one address's
history with ``audit.service.history``; the reason carries the value itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.http.throttle import Refusal, Scope, Throttle
from computeport.identity.errors import InvalidCredentials
from computeport.identity.service import authenticate_password
from computeport.kit.errors import TooManyAttempts
from computeport.models.identity import User

_NAMESPACE = uuid.UUID("5b0c0a1e-3f43-4c55-9a3e-61c0a07e5e11")
"""Fixed, so that one email or address is always the same audited entity."""

SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_LOCKED = "sign_in_locked"
TOKEN_REFUSED = "token_refused"  # noqa: S105 - an audit action, not a secret
TOKEN_LOCKED = "token_locked"  # noqa: S105


class SignInLocked(TooManyAttempts):
    """Too many failed sign-ins for this email or from this address (the same words for both,
    and for an email no one has)."""

    title = "Too many sign-in attempts"


class TokenChecksLocked(TooManyAttempts):
    title = "Too many failed token checks"


_TABLES: dict[Scope, str] = {
    Scope.LOGIN_ACCOUNT: "sign_in_email",
    Scope.LOGIN_ADDRESS: "client_address",
    Scope.TOKEN_ADDRESS: "client_address",
}


class Target:
    """An email or a client address as an audited entity (``audit.service.Audited``)."""

    def __init__(self, scope: Scope, value: str) -> None:
        self.__tablename__ = _TABLES[scope]
        self.id = uuid.uuid5(_NAMESPACE, f"{self.__tablename__}:{value.strip().lower()}")


def entity_id(scope: Scope, value: str) -> uuid.UUID:
    """The audited entity id of an email or address (for ``audit.service.history``)."""
    return Target(scope, value).id


def sign_in_refusal_minutes(error: TooManyAttempts) -> int:
    """Whole minutes to wait, rounded up (what a sign-in page tells a person)."""
    return Refusal(Scope.LOGIN_ACCOUNT, error.retry_after).retry_after_minutes


def sign_in_refusal_message(refusal: Refusal) -> str:
    return (
        "too many failed sign-in attempts for this account or from this address; "
        f"try again in {refusal.retry_after_minutes} minutes"
    )


def sign_in(
    session: Session, throttle: Throttle, email: str, password: str, address: str, at: datetime
) -> User:
    """The user with this email and password, unless this email or address is locked out.

    Raises :class:`SignInLocked` (checked before the password, so a locked account cannot be
    probed) or :class:`InvalidCredentials`; each failure is counted and audited in ``session``
    (the caller commits it: a wrong password is an answer, not an error of the request).
    """
    keys = ((Scope.LOGIN_ACCOUNT, email), (Scope.LOGIN_ADDRESS, address))
    refused = throttle.first_refusal(*keys)
    if refused is not None:
        message = sign_in_refusal_message(refused)
        raise SignInLocked(message, retry_after=refused.retry_after_seconds)
    try:
        user = authenticate_password(session, email, password)
    except InvalidCredentials:
        _audit(session, Scope.LOGIN_ACCOUNT, email, SIGN_IN_FAILED, f"from {address}", at)
        for scope, key in keys:
            if throttle.fail(scope, key):
                _audit(session, scope, key, SIGN_IN_LOCKED, _lock_reason(scope, email, address), at)
        raise
    throttle.clear(Scope.LOGIN_ACCOUNT, email)
    return user


def token_refusal(throttle: Throttle, address: str) -> TokenChecksLocked | None:
    """The error to raise when ``address`` has failed too many token checks, else ``None``."""
    refused = throttle.refusal(Scope.TOKEN_ADDRESS, address)
    if refused is None:
        return None
    return TokenChecksLocked(
        "too many failed API token checks from this address; "
        f"retry after {refused.retry_after_seconds} seconds",
        retry_after=refused.retry_after_seconds,
    )


def token_failed(
    session: Session, throttle: Throttle, address: str, error: InvalidCredentials, at: datetime
) -> None:
    """Count a failed token check from ``address`` and audit it (and the lockout it began)."""
    locked = throttle.fail(Scope.TOKEN_ADDRESS, address)
    _audit(session, Scope.TOKEN_ADDRESS, address, TOKEN_REFUSED, error.message, at)
    if locked:
        _audit(
            session,
            Scope.TOKEN_ADDRESS,
            address,
            TOKEN_LOCKED,
            _lock_reason(Scope.TOKEN_ADDRESS, "", address),
            at,
        )


def _lock_reason(scope: Scope, email: str, address: str) -> str:
    if scope is Scope.LOGIN_ACCOUNT:
        return f"sign-ins for {email!r} locked after too many failures (last from {address})"
    what = "sign-ins" if scope is Scope.LOGIN_ADDRESS else "API token checks"
    return f"{what} from {address} locked after too many failures"


def _audit(
    session: Session, scope: Scope, value: str, action: str, reason: str, at: datetime
) -> None:
    target = Target(scope, value)
    subject = value if scope is not Scope.LOGIN_ACCOUNT else repr(value)
    record_event(session, target, action, None, f"{subject}: {reason}"[:2000], at)
