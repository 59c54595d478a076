"""Checking a request body before anything is forwarded: the model, the messages, the bounds.

Only the shape is checked (the upstream checks the rest and its 4xx is passed on): enough that
a malformed request gets a precise 400 naming the field, and that the quota reservation has a
bound on the tokens the request may cost.
"""

from __future__ import annotations

import json
from typing import Any

from computeport.gateway.errors import bad_request

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
DEFAULT_COMPLETION_BOUND = 512
"""Tokens reserved for an answer whose request sets no ``max_tokens``."""


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("model: required, the name of a served model (a string).", "model")
    return body


def check_chat(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: required, a non-empty array of messages.", "messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise bad_request(f"messages[{i}]: must be an object.", f"messages[{i}]")
        role = m.get("role")
        if role not in ROLES:
            raise bad_request(
                f"messages[{i}].role: {role!r} is not one of {', '.join(sorted(ROLES))}.",
                f"messages[{i}].role",
            )
        content = m.get("content")
        if content is not None and not isinstance(content, str | list):
            raise bad_request(
                f"messages[{i}].content: must be a string or an array of parts.",
                f"messages[{i}].content",
            )
        if content is None and role != "assistant":
            raise bad_request(f"messages[{i}].content: required.", f"messages[{i}].content")


def check_completion(body: dict[str, Any]) -> None:
    prompt = body.get("prompt")
    if not isinstance(prompt, str | list) or (isinstance(prompt, list) and not prompt):
        raise bad_request("prompt: required, a string or a non-empty array.", "prompt")


def check_embedding(body: dict[str, Any]) -> None:
    value = body.get("input")
    if not isinstance(value, str | list) or (isinstance(value, list) and not value):
        raise bad_request("input: required, a string or a non-empty array.", "input")


def completion_bound(body: dict[str, Any]) -> int:
    """The most tokens the answer may have, as the request bounds it."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_request(f"{name}: must be a positive integer.", name)
        return value
    return DEFAULT_COMPLETION_BOUND


def prompt_estimate(raw: bytes) -> int:
    """A bound on the prompt's tokens from the body's size (about 4 bytes a token)."""
    return len(raw) // 4 + 1


TEMPLATE_ALLOWANCE = 64
"""Tokens a chat template may add around the messages (role markers, a default system prompt)."""


def prompt_bound(raw: bytes) -> int:
    """A prompt's tokens at most, for the money hold: a byte-level tokenizer never makes more
    tokens than the text has bytes, the text is within the body, and the template adds at
    most :data:`TEMPLATE_ALLOWANCE`.  (:func:`prompt_estimate` is the rate limits' guess.)"""
    return len(raw) + TEMPLATE_ALLOWANCE


CHECKS = {
    "chat.completions": check_chat,
    "completions": check_completion,
    "embeddings": check_embedding,
}

__all__ = [
    "CHECKS",
    "TEMPLATE_ALLOWANCE",
    "completion_bound",
    "parse_body",
    "prompt_bound",
    "prompt_estimate",
]
