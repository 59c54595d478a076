"""The gateway's HTTP client towards its upstreams: one aiohttp session per API process.

Why aiohttp, not httpx: relaying a small chat request, httpx + httpcore cost the gateway about
as much CPU as everything else together (cProfile, benchmarks/bench_gateway.py: connection-pool
placement polls every pooled socket, anyio and h11 layers per read and write).  aiohttp's
connector hands out a kept-alive connection in O(1) and parses responses in C; the gateway's CPU
per relayed request fell by the figures in benchmarks/README.md ("The upstream hop on aiohttp").

What the relay relies on, kept here in one place:

- failures are sorted by *whether the upstream can have seen the request*:
  :class:`NotReached` (refused, connect timeout: safe to try the next upstream for anything),
  :class:`Dropped` (a kept-alive connection the upstream had closed, found when the request was
  written: safe for a chat request, whose answer is not yet started), and any other
  :class:`UpstreamError` (read timeout, broken answer: never retried);
- the answer streams as it arrives (:meth:`UpstreamResponse.chunks`), never read whole first;
- idle connections are dropped after :data:`KEEPALIVE_S`, shorter than the keep-alive of the
  servers that speak this protocol (uvicorn under vLLM: 5 s), so a request seldom meets one the
  upstream is closing.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp.payload import TOO_LARGE_BYTES_BODY

CONNECT_TIMEOUT_S = 5.0
KEEPALIVE_S = 4.0
"""Seconds an idle upstream connection is kept (below the upstreams' own keep-alive)."""
ONE_WRITE_BYTES = TOO_LARGE_BYTES_BODY
"""The largest body sent in one write (aiohttp's own bound, 1 MiB)."""
CONNECTIONS = 512
"""Connections per process across all upstreams (httpx's eight pools of 64 before)."""


class UpstreamError(Exception):
    """The upstream could not be asked, or its answer could not be read; ``kind`` names how
    (the 502/503 problem the client gets says it, never the request's content)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class NotReached(UpstreamError):
    """The upstream never got the request (connection refused or not made in time)."""


class Dropped(UpstreamError):
    """The connection broke before any answer began: most often a kept-alive connection the
    upstream had just closed (llama.cpp's server closes one after a few requests), found when
    the request was written to it.  Nothing was answered, so nothing can be billed twice."""


class UpstreamResponse:
    """An upstream's answer, headers read, body still on the wire."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.content_type = response.headers.get("content-type", "application/json")

    async def read(self) -> bytes:
        """The whole body (the connection goes back to the pool)."""
        try:
            return await self._response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _sorted(exc) from None
        finally:
            self._response.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (transfer coding undone), in the pieces the socket gave."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _sorted(exc) from None

    def ended(self) -> bool:
        """Whether the whole body has been read (its end arrived with the last chunk)."""
        return self._response.content.at_eof()

    def close(self) -> None:
        """Give the connection back: kept alive if the body was read to its end, else closed
        (an abandoned stream must not be reused mid-answer)."""
        self._response.release()


class UpstreamClient:
    """A lazily opened aiohttp session on the running loop, with the gateway's timeouts."""

    def __init__(self, read_timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=read_timeout
        )
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=CONNECTIONS, limit_per_host=0, keepalive_timeout=KEEPALIVE_S
                ),
                timeout=self._timeout,
                auto_decompress=True,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        read_timeout: float | None = None,
    ) -> UpstreamResponse:
        """POST ``content``; the response once its headers are in.  A body up to
        :data:`ONE_WRITE_BYTES` goes in one write (a chat request, a short clip); a larger one
        as a stream of 64 KB writes, as aiohttp asks (it warns that one large write can hold
        the event loop)."""
        data: bytes | io.BytesIO = (
            content if len(content) <= ONE_WRITE_BYTES else io.BytesIO(content)
        )
        timeout = (
            self._timeout
            if read_timeout is None
            else aiohttp.ClientTimeout(
                total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=read_timeout
            )
        )
        try:
            response = await self.session.post(url, data=data, headers=headers, timeout=timeout)
        except aiohttp.ClientOSError as exc:
            if isinstance(exc, aiohttp.ClientConnectorError):
                raise NotReached(type(exc).__name__) from None
            raise Dropped(type(exc).__name__) from None  # writing failed, or reset: no answer
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _sorted(exc) from None
        return UpstreamResponse(response)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _sorted(exc: BaseException) -> UpstreamError:
    """aiohttp's exception as one of ours (by whether the upstream can have seen the request)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return NotReached(type(exc).__name__)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Dropped(type(exc).__name__)
    if isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        return UpstreamError("ReadTimeout")
    return UpstreamError(type(exc).__name__)


__all__ = [
    "Dropped",
    "NotReached",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamResponse",
]
