"""Counting tokens with the model's own tokenizer when the upstream reports no usage.

Most answers carry ``usage`` and are metered from it.  Some do not: a stream the client leaves
before the last event (the usage event never comes), an upstream that does not report usage.
Such a request used to be metered from the body's size (about 4 bytes a token) and the number
of text events; now the gateway asks the upstream that served it to count, at ``POST
/tokenize`` beside ``/v1``, with the very vocabulary the model used.  The servers that speak
the protocol disagree on that call's body (their own documentation and sources):

- llama.cpp's server: ``{"content", "add_special"}`` → ``{"tokens": […]}``;
- vLLM, and SGLang which copies it: ``{"model"?, "prompt", "add_special_tokens"}`` →
  ``{"count", "tokens", "max_model_len"}``;
- TGI: ``{"inputs", "parameters"?}`` → ``[{"id", "text", "start", "stop"}, …]``.

No one body serves all: llama.cpp answers *200 with no tokens* to any body without
``content`` (it ignores what it does not know), so the shapes are tried in that order, the
next only when one is refused (a 4xx: vLLM says 400, TGI 422), and the shape that worked is
kept per upstream (:class:`TokenCounter`): one request per count once known, at most three the
first time.  ``model`` is not sent: it is optional to vLLM and SGLang, and the name a client
used need not be one the upstream serves (a 404 there).  An upstream that refuses all three is
asked again only after :data:`NO_TOKENIZER_RECHECK_S`; one that fails (5xx, timeout, gone)
leaves the estimate and teaches nothing.  The record stays marked *estimated* either way: the
tokenizer counts the text, not the chat template's extra tokens around it.

Why this is off the request's path: the count is an extra HTTP call, made in a background task
after the answer is sent (or the client has gone), never while a client waits.  The texts exist
only in memory for that call, like the request itself (docs/gateway.md, Privacy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from computeport.gateway.upstream import Dropped, UpstreamClient, UpstreamError
from computeport.kit.clock import Clock

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


TOKENIZE_SHAPES: tuple[tuple[str, Callable[[str], dict[str, Any]]], ...] = (
    ("llama.cpp", lambda text: {"content": text, "add_special": False}),
    ("vllm", lambda text: {"prompt": text, "add_special_tokens": False}),
    ("tgi", lambda text: {"inputs": text}),
)
"""The ``/tokenize`` bodies tried, in order (llama.cpp's first: it accepts any other body)."""
NO_TOKENIZER_RECHECK_S = 600.0
"""How long an upstream that refused every shape is left unasked (the rough estimate holds)."""
_TRANSIENT = frozenset({408, 429})


def count_in(answer: Any) -> int | None:
    """The token count in a ``/tokenize`` answer of any of the shapes, or ``None``."""
    if isinstance(answer, list):
        return len(answer)
    if not isinstance(answer, dict):
        return None
    count = answer.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    tokens = answer.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


class _Refused(Exception):
    """This upstream does not take this body (a 4xx, or an answer without a count)."""


class TokenCounter:
    """Counts with each upstream's tokenizer, remembering per upstream which body it takes.

    One per API process (the gateway's); its memory is a few entries per upstream."""

    def __init__(self, client: UpstreamClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._shape: dict[str, int] = {}
        """Upstream's tokenize URL → index in :data:`TOKENIZE_SHAPES` of the body it took."""
        self._none_until: dict[str, datetime] = {}
        """Upstreams that refused every body, left unasked until then."""
        self.requests = 0
        """``/tokenize`` requests made so far (how the tests see the bound hold)."""

    def shape_of(self, upstream: str) -> str | None:
        """The name of the body ``upstream`` is known to take, if any yet."""
        index = self._shape.get(tokenize_url(upstream))
        return None if index is None else TOKENIZE_SHAPES[index][0]

    async def count(self, upstream: str, text: str) -> int | None:
        """The model's token count of ``text`` from ``upstream``'s ``/tokenize``, or ``None``
        when it has none (or fails): the caller keeps its estimate then."""
        if not text:
            return 0
        url = tokenize_url(upstream)
        known = self._shape.get(url)
        if known is not None:
            try:
                return await self._ask(url, known, text)
            except _Refused:  # another server now answers there: learn it again next time
                del self._shape[url]
                return None
        until = self._none_until.get(url)
        if until is not None and self._clock.now() < until:
            return None
        for index in range(len(TOKENIZE_SHAPES)):
            try:
                counted = await self._ask(url, index, text)
            except _Refused:
                continue
            if counted is not None:
                self._shape[url] = index
                self._none_until.pop(url, None)
            return counted
        self._none_until[url] = self._clock.now() + timedelta(seconds=NO_TOKENIZER_RECHECK_S)
        return None

    async def _post(self, url: str, body: bytes) -> tuple[int, bytes] | None:
        """The status and body of one ``/tokenize`` answer, ``None`` when none came.  Asking
        twice costs nothing but time, so a connection found closed before any answer (llama.cpp
        closes kept-alive ones after a few requests) is tried once more."""
        for attempt in range(2):
            self.requests += 1
            try:
                response = await self._client.post(
                    url, body, {"content-type": "application/json"}, read_timeout=TOKENIZE_TIMEOUT_S
                )
                return response.status, await response.read()
            except Dropped:
                if attempt:
                    return None
            except UpstreamError:
                return None
        return None

    async def _ask(self, url: str, index: int, text: str) -> int | None:
        """One ``/tokenize`` request with body ``index``: its count, ``None`` when the upstream
        failed (nothing learnt), :class:`_Refused` when it does not take that body."""
        answered = await self._post(url, json.dumps(TOKENIZE_SHAPES[index][1](text)).encode())
        if answered is None:
            return None
        status, answer = answered
        if status >= 500 or status in _TRANSIENT:
            return None
        if status >= 400:
            raise _Refused
        try:
            counted = count_in(json.loads(answer))
        except ValueError:
            counted = None
        if counted is None:
            raise _Refused
        return counted


__all__ = [
    "TOKENIZE_SHAPES",
    "TokenCounter",
    "answer_text",
    "count_in",
    "prompt_text",
    "streamed_text",
    "tokenize_url",
]
