"""Demo logins: one user per role with a known password and a known API token.

For demonstrations and the README walk-through only: the passwords and tokens below are
public, derived deterministically so that seeding twice changes nothing.  Never seed a
production database with them (``computeport seed cyberport`` says so when it runs).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from computeport.identity.tokens import TOKEN_SCHEME, hash_token
from computeport.models.identity import Role

DEMO_DOMAIN = "demo.computeport.example"
DEMO_ORGANISATION = "Jadesampan AI Limited (demo applicant)"
"""The applicant organisation the demo admin and member belong to (it holds an award)."""


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    display_name: str
    posix_username: str
    password: str
    token: str

    @property
    def token_prefix(self) -> str:
        return self.token.split("_")[1]

    @property
    def token_hash(self) -> str:
        return hash_token(self.token)


def _token(email: str) -> str:
    digest = hashlib.sha256(f"computeport-demo-token:{email}".encode()).digest()
    prefix = hashlib.sha256(f"computeport-demo-prefix:{email}".encode()).hexdigest()[:8]
    secret = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"{TOKEN_SCHEME}_{prefix}_{secret}"


def _login(role: Role, local: str, name: str) -> DemoLogin:
    email = f"{local}@{DEMO_DOMAIN}"
    return DemoLogin(
        role=role,
        email=email,
        display_name=name,
        posix_username=f"demo_{local}",
        password=f"demo-{local}-2026",
        token=_token(email),
    )


def demo_logins() -> list[DemoLogin]:
    """The demo users, one per role (applicant roles belong to :data:`DEMO_ORGANISATION`)."""
    return [
        _login(Role.OPERATOR, "operator", "Olivia Operator"),
        _login(Role.SCHEME_OFFICER, "officer", "Oscar Officer"),
        _login(Role.COMMITTEE_MEMBER, "committee", "Chloe Committee"),
        _login(Role.REVIEWER, "reviewer", "Ray Reviewer"),
        _login(Role.FUNDER, "funder", "Fiona Funder"),
        _login(Role.ORG_ADMIN, "admin", "Adam Applicant"),
        _login(Role.MEMBER, "member", "Mei Member"),
    ]


def department_login() -> DemoLogin:
    """The admin of the demo's government department (the gateway's customer): not among
    :func:`demo_logins`, whose applicant roles belong to :data:`DEMO_ORGANISATION`; the
    demo's gateway step grants it (:mod:`computeport.seed.gateway_demo`)."""
    return _login(Role.ORG_ADMIN, "department", "Dora Department")


def demo_gateway_key() -> str:
    """The department application's gateway key: public and derived, like the tokens above,
    so the README's ``openai`` steps work after every restart of the demo."""
    digest = hashlib.sha256(b"computeport-demo-gateway-key").digest()
    prefix = hashlib.sha256(b"computeport-demo-gateway-prefix").hexdigest()[:8]
    return f"cpk_{prefix}_{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


__all__ = [
    "DEMO_DOMAIN",
    "DEMO_ORGANISATION",
    "DemoLogin",
    "demo_gateway_key",
    "demo_logins",
    "department_login",
]
