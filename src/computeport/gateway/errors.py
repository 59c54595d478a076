"""Errors in the shape the official ``openai`` client reads, and as problem+json.

Why both at once: the ``openai`` client raises its typed exceptions (``NotFoundError``,
``RateLimitError``, ``PermissionDeniedError``, …) from the status code and reads the message
from the body's ``error`` object; the house renders every error as problem+json with a
``title`` and ``detail``.  One body carries both, so either kind of client understands it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from starlette.responses import Response

PROBLEM_BASE = "https://computeport.dev/problems/gateway/"


@dataclass
class GatewayError(Exception):
    """A refusal or failure the client must see (nothing is forwarded, nothing billed)."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def response(self) -> Response:
        code = self.code or self.type
        body = {
            "type": PROBLEM_BASE + code,
            "title": code.replace("_", " ").capitalize(),
            "status": self.status,
            "detail": self.message,
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            },
        }
        if self.param is not None:
            body["field"] = self.param
        return Response(
            json.dumps(body),
            status_code=self.status,
            media_type="application/problem+json",
            headers=self.headers,
        )


def bad_request(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(400, message, "invalid_request_error", "invalid_request", param)


def unknown_model(name: str) -> GatewayError:
    return GatewayError(
        404,
        f"The model {name!r} does not exist or is not served here (GET /v1/models lists them).",
        "invalid_request_error",
        "model_not_found",
        "model",
    )


def unauthorised(message: str) -> GatewayError:
    return GatewayError(401, message, "authentication_error", "invalid_api_key")


def too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        f"The request body is larger than the gateway accepts ({limit} bytes).",
        "invalid_request_error",
        "request_too_large",
    )


def upstream_failed(message: str) -> GatewayError:
    """The upstream failed after it got the request (a bare 500, a dropped connection): a 502
    problem, never the upstream's bare 500 passed on; nothing is billed."""
    return GatewayError(502, message, "api_error", "upstream_error")


def no_upstream(model: str) -> GatewayError:
    return GatewayError(
        503,
        f"No healthy upstream serves {model!r} right now; try again shortly.",
        "service_unavailable_error",
        "no_healthy_upstream",
        headers={"Retry-After": "5"},
    )


def limits_unavailable() -> GatewayError:
    return GatewayError(
        503,
        "The gateway cannot check its limits and budgets right now; try again shortly.",
        "service_unavailable_error",
        "limits_unavailable",
        headers={"Retry-After": "5"},
    )


def unpriced(model: str, budget: str, kind: str = "token") -> GatewayError:
    """``kind``: the price the route needs (``token``, or ``audio-minute`` for speech)."""
    return GatewayError(
        403,
        f"The model {model!r} has no {kind} price on the rate card, so its cost cannot be held "
        f"against the budget of {budget}; ask the centre to price it.",
        "insufficient_quota",
        "model_not_priced",
        "model",
    )


__all__ = [
    "GatewayError",
    "bad_request",
    "limits_unavailable",
    "no_upstream",
    "too_large",
    "unauthorised",
    "unknown_model",
    "unpriced",
    "upstream_failed",
]
