"""The organisation's data policy applied to one request: residency, then redaction.

Why one function the relay calls at one place (:func:`apply_data_policy`): every route that
forwards a body — chat, completions, embeddings, and audio when it lands — must pass the same
checks before anything leaves the gateway.  Residency applies to every route; redaction to the
text fields a route carries (:data:`TEXT_FIELDS`; a route not listed, such as audio, is
forwarded unredacted, its content being sound).

Residency: an organisation restricted to some sites is served only by upstreams tagged with one
of them; an untagged upstream's place is unknown, so it never serves such an organisation.  A
model served nowhere allowed is refused (403) naming the rule, before any quota is taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from computeport.gateway.errors import GatewayError
from computeport.gateway.lookups import DeploymentInfo, KeyInfo
from computeport.gateway.redaction import Redactions, redact_text


@dataclass(frozen=True, slots=True)
class Admitted:
    """What the policy lets out: the upstreams that may serve, and the body to send."""

    upstreams: tuple[str, ...]
    body: dict[str, Any]
    raw: bytes
    redactions: int


def site_refused(model: str, served_at: list[str], allowed: frozenset[str]) -> GatewayError:
    where = ", ".join(served_at) if served_at else "no tagged site"
    return GatewayError(
        403,
        f"Data residency: your organisation's data policy allows only deployments at "
        f"{', '.join(sorted(allowed))}; {model!r} is served at {where}.",
        "permission_error",
        "site_not_allowed",
        "model",
    )


def allowed_upstreams(key: KeyInfo, deployment: DeploymentInfo) -> tuple[str, ...]:
    """The deployment's upstreams at the key's organisation's allowed sites (all of them when
    unrestricted); a :class:`GatewayError` 403 when none is."""
    allowed = key.allowed_sites
    if allowed is None:
        return deployment.upstreams
    sites = deployment.sites or (None,) * len(deployment.upstreams)
    kept = tuple(u for u, s in zip(deployment.upstreams, sites, strict=True) if s in allowed)
    if not kept:
        served = sorted({s for s in sites if s is not None})
        raise site_refused(deployment.name, served, allowed)
    return kept


def may_serve(key: KeyInfo, deployment: DeploymentInfo) -> bool:
    """Whether any of the deployment's upstreams may serve the key's organisation (what
    ``GET /v1/models`` lists for it)."""
    if key.allowed_sites is None:
        return True
    return any(s in key.allowed_sites for s in deployment.sites)


def _redact_parts(content: Any, found: Redactions) -> Any:
    if isinstance(content, str):
        return redact_text(content, found)
    if isinstance(content, list):
        return [
            {**part, "text": redact_text(part["text"], found)}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return content


def _redact_messages(body: dict[str, Any], found: Redactions) -> dict[str, Any]:
    messages = [
        {**m, "content": _redact_parts(m.get("content"), found)} if isinstance(m, dict) else m
        for m in body["messages"]
    ]
    return {**body, "messages": messages}


def _redact_strings(name: str) -> Callable[[dict[str, Any], Redactions], dict[str, Any]]:
    """A string or an array of strings (token arrays are numbers: left as they are)."""

    def redact(body: dict[str, Any], found: Redactions) -> dict[str, Any]:
        value = body[name]
        if isinstance(value, str):
            return {**body, name: redact_text(value, found)}
        return {
            **body,
            name: [redact_text(v, found) if isinstance(v, str) else v for v in value],
        }

    return redact


TEXT_FIELDS: dict[str, Callable[[dict[str, Any], Redactions], dict[str, Any]]] = {
    "chat.completions": _redact_messages,
    "completions": _redact_strings("prompt"),
    "embeddings": _redact_strings("input"),
}
"""Per route, how its prompt text is redacted (the routes' checks ran first: shapes hold)."""


def redact_body(endpoint: str, body: dict[str, Any]) -> tuple[dict[str, Any], Redactions]:
    found = Redactions()
    redact = TEXT_FIELDS.get(endpoint)
    if redact is None:
        return body, found
    return redact(body, found), found


def apply_data_policy(
    key: KeyInfo, deployment: DeploymentInfo, endpoint: str, body: dict[str, Any], raw: bytes
) -> Admitted:
    """Residency for every route, then redaction where the organisation asked for it; the raw
    body is re-encoded only when something was replaced."""
    upstreams = allowed_upstreams(key, deployment)
    if not key.redact:
        return Admitted(upstreams, body, raw, 0)
    redacted, found = redact_body(endpoint, body)
    if not found.total:
        return Admitted(upstreams, body, raw, 0)
    return Admitted(upstreams, redacted, json.dumps(redacted).encode(), found.total)


__all__ = [
    "TEXT_FIELDS",
    "Admitted",
    "allowed_upstreams",
    "apply_data_policy",
    "may_serve",
    "redact_body",
    "site_refused",
]
