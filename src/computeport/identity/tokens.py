"""API token format: ``cpt_<prefix>_<secret>``, stored only as its SHA-256.

The prefix (8 hex characters) is stored in clear so a person can tell their tokens apart; the
secret (32 random bytes, URL-safe base64) is shown once at creation.  A SHA-256 (not a slow
password hash) is right here: the secret has 256 bits of entropy, so brute force is hopeless and
lookups by hash stay one index probe per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

TOKEN_SCHEME = "cpt"  # noqa: S105 - a format prefix, not a secret
_TOKEN_RE = re.compile(r"^cpt_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: ``plaintext`` is shown once and never stored."""

    plaintext: str
    prefix: str
    token_hash: str


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_token() -> NewToken:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_SCHEME}_{prefix}_{secret}"
    return NewToken(plaintext, prefix, hash_token(plaintext))


def looks_like_token(value: str) -> bool:
    """A cheap shape check before touching the database."""
    return _TOKEN_RE.match(value) is not None
