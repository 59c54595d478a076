"""Counting tokens with the model's own tokenizer when the upstream reports no usage.

Most answers carry ``usage`` and are metered from it.  Some do not: a stream the client leaves
before the last event (the usage event never comes), an upstream that does not report usage.
Such a request used to be metered from the body's size (about 4 bytes a token) and the number
of text events; now the gateway asks the upstream that served it to count: llama.cpp's server
exposes ``POST /tokenize`` beside ``/v1`` (``{"content": …}`` → ``{"tokens": […]}``), which
tokenizes with the very vocabulary the model used.  vLLM's ``/tokenize`` takes another body
(``{"model", "prompt"}``); an answer without ``tokens`` leaves the estimate in place.  The
record stays marked *estimated*: the tokenizer counts the text, not the chat template's extra
tokens around it.  An upstream without ``/tokenize`` (or one that fails) leaves the old
estimate in place too.

Why this is off the request's path: the count is an extra HTTP call, made in a background task
after the answer is sent (or the client has gone), never while a client waits.  The texts exist
only in memory for that call, like the request itself (docs/gateway.md, Privacy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from computeport.gateway.upstream import UpstreamClient, UpstreamError

TOKENIZE_TIMEOUT_S = 5.0


def _parts(content: Any) -> Iterable[str]:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"]


def prompt_text(body: dict[str, Any]) -> str:
    """The text a request sends the model: its messages' contents, prompt or input."""
    pieces: list[str] = []
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                pieces.extend(_parts(message.get("content")))
    for name in ("prompt", "input"):
        value = body.get(name)
        if isinstance(value, str):
            pieces.append(value)
        elif isinstance(value, list):
            pieces.extend(v for v in value if isinstance(v, str))
    return "\n".join(pieces)


def _choice_text(choice: Any) -> str:
    if not isinstance(choice, dict):
        return ""
    for holder in (choice.get("delta"), choice.get("message")):
        if isinstance(holder, dict) and isinstance(holder.get("content"), str):
            return str(holder["content"])
    text = choice.get("text")
    return text if isinstance(text, str) else ""


def answer_text(payload: Any) -> str:
    """The generated text of a whole answer (or of one stream chunk)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
        return ""
    return "".join(_choice_text(c) for c in payload["choices"])


def streamed_text(events: Iterable[bytes]) -> str:
    """The generated text of the server-sent events passed on so far."""
    pieces: list[str] = []
    for event in events:
        for line in event.splitlines():
            if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                try:
                    pieces.append(answer_text(json.loads(line[5:])))
                except ValueError:
                    continue
    return "".join(pieces)


def tokenize_url(upstream: str) -> str:
    """``http://host:8000/v1`` → ``http://host:8000/tokenize`` (the server's root)."""
    return upstream.rstrip("/").removesuffix("/v1") + "/tokenize"


async def count_tokens(client: UpstreamClient, upstream: str, text: str) -> int | None:
    """The model's token count of ``text`` from ``upstream``'s ``/tokenize``, or ``None``
    when it has none (or fails): the caller keeps its estimate then."""
    if not text:
        return 0
    try:
        response = await client.post(
            tokenize_url(upstream),
            json.dumps({"content": text, "add_special": False}).encode(),
            {"content-type": "application/json"},
            read_timeout=TOKENIZE_TIMEOUT_S,
        )
        answer = await response.read()
        if response.status != 200:
            return None
        tokens = json.loads(answer).get("tokens")
    except (UpstreamError, ValueError, AttributeError):
        return None
    return len(tokens) if isinstance(tokens, list) else None


__all__ = [
    "answer_text",
    "count_tokens",
    "prompt_text",
    "streamed_text",
    "tokenize_url",
]
