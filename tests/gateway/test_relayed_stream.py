"""The relayed stream's writes, read at the ASGI boundary: the last events carry the end of
the body when the upstream's end came with them (one write, not two, at the moment the
client waits for), and an empty end follows only when it did not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest

from computeport.gateway.relay import RelayedStream


def _relay(
    pieces: list[tuple[bytes, bool]],
) -> tuple[list[MutableMapping[str, Any]], list[bool]]:
    sent: list[MutableMapping[str, Any]] = []
    ended: list[bool] = []
    client_gone = asyncio.Event()  # (the client stays: the watcher waits until the end)

    async def events() -> AsyncIterator[tuple[bytes, bool]]:
        for piece in pieces:
            yield piece

    async def receive() -> MutableMapping[str, Any]:
        await client_gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        stream = RelayedStream(events(), ended.append, "req-1")
        await stream({"type": "http"}, receive, send)

    asyncio.run(run())
    return sent, ended


@pytest.mark.parametrize(
    ("pieces", "bodies"),
    [
        ([(b"a", False), (b"b", True)], [(b"a", True), (b"b", False)]),
        ([(b"a", False), (b"b", False)], [(b"a", True), (b"b", True), (b"", False)]),
        ([], [(b"", False)]),
    ],
    ids=["end with the last events", "end after them", "nothing but the end"],
)
def test_the_end_of_the_body_rides_with_the_last_events_when_it_came_with_them(
    pieces: list[tuple[bytes, bool]], bodies: list[tuple[bytes, bool]]
) -> None:
    sent, ended = _relay(pieces)
    assert sent[0]["type"] == "http.response.start"
    assert [(m["body"], m["more_body"]) for m in sent[1:]] == bodies
    assert ended == [True]
