"""A recording proxy in front of a real upstream: what the upstream was sent, byte for byte.

Why: to prove that a redacted value never reaches the upstream, the test must see what
crossed the wire, not what the gateway meant to send.  The proxy keeps every request body it
forwards (in this test process's memory only), passes the upstream's answer back — streamed
event by event when the upstream streams — and is served by uvicorn in a thread on a free
port, like the gateway under test.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.support.processes import free_port, poll


@dataclass
class RecordingProxy:
    upstream: str
    """The real upstream's base URL (…/v1)."""
    bodies: list[bytes] = field(default_factory=list)
    port: int = 0
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def received(self) -> str:
        """Every body the upstream was sent, as text."""
        return "\n".join(b.decode() for b in self.bodies)

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        self.bodies.append(body)
        client = httpx.AsyncClient(timeout=120)
        path = request.url.path.removeprefix("/v1")
        upstream = client.build_request(
            "POST",
            self.upstream + path,
            content=body,
            headers={"content-type": "application/json"},
        )
        response = await client.send(upstream, stream=True)
        media = response.headers.get("content-type", "application/json")

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()
                await client.aclose()

        return StreamingResponse(relay(), status_code=response.status_code, media_type=media)

    def start(self) -> RecordingProxy:
        app = Starlette(routes=[Route("/v1/{path:path}", self.forward, methods=["POST"])])
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        server = self.server
        assert poll(lambda: server.started, seconds=30, every=0.05), "recording proxy not serving"
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)


__all__ = ["RecordingProxy"]
