"""Reading an upstream's server-sent events as they pass: usage, tokens sent, first token.

The gateway forwards each event as soon as it is complete (never the whole answer), and looks
into it only as far as metering needs:

- ``usage`` may ride on any event (chat streams put it in a last ``choices: []`` event when
  asked with ``stream_options.include_usage``; llama.cpp's completion streams put it on the
  ``finish_reason`` event, always): the last one seen counts;
- an event carrying text (``"content":"…"`` or ``"text":"…"``) is one token sent — the count
  that bills a stream the client left before its usage arrived (marked estimated);
- the usage-only event the gateway asked for on the client's behalf is dropped when the client
  did not ask for it itself, so the client sees what OpenAI would send it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

_SEPARATORS = (b"\n\n", b"\r\n\r\n")


def split_events(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete events (with their separator) and the incomplete rest."""
    events: list[bytes] = []
    while True:
        cut = -1
        width = 0
        for sep in _SEPARATORS:
            i = buffer.find(sep)
            if i >= 0 and (cut < 0 or i < cut):
                cut, width = i, len(sep)
        if cut < 0:
            return events, buffer
        events.append(buffer[: cut + width])
        buffer = buffer[cut + width :]


def usage_of(payload: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens from an OpenAI response or chunk, if it carries usage."""
    if not isinstance(payload, dict):
        return None
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens", 0) or 0
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return prompt, completion


@dataclass
class StreamTally:
    """What has passed through one stream so far."""

    client_wants_usage: bool
    started: float = field(default_factory=time.perf_counter)
    usage: tuple[int, int] | None = None
    text_events: int = 0
    first_token_at: float | None = None
    texts: list[bytes] = field(default_factory=list)
    """The events that carried text (kept by reference, parsed only when the upstream's
    usage never came: :mod:`computeport.gateway.token_count`)."""

    def see(self, event: bytes) -> bytes:
        """The bytes to forward for ``event`` (empty: drop it)."""
        if b'"content":"' in event or b'"text":"' in event:
            self.text_events += 1
            self.texts.append(event)
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
        if b'"usage"' in event:
            data = event.strip()
            if data.startswith(b"data:"):
                try:
                    payload = json.loads(data[5:])
                except ValueError:
                    return event
                found = usage_of(payload)
                if found is not None:
                    self.usage = found
                    if not self.client_wants_usage and payload.get("choices") == []:
                        return b""
        return event

    @property
    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return round((self.first_token_at - self.started) * 1000)


__all__ = ["StreamTally", "split_events", "usage_of"]
