"""One Redis connection, pipelined: each command is written as it is called, and each reply
is handed to its caller by the connection's own receive callback.

Why not redis-py's pipeline per batch (what the limits used before): a batch waited for the
next turn of the event loop to leave, then took a connection from the pool (a lock, a
health poll of the socket, metrics hooks), and its callers woke only after the whole batch
was read.  Under the gateway's load a turn of the loop is a millisecond or more, and admission
paid two or three of them.  Redis answers the commands of one connection in the order they
came, so a queue of futures matched reply by reply is all the bookkeeping a pipelined
connection needs.

Why the replies are read in the protocol callback, not by a reader task: a reader task is
woken by the socket, and only then wakes the caller: two turns of the loop per reply.  Here
the transport's ``data_received`` feeds the bytes to ``hiredis``'s parser and resolves the
callers' futures there and then, so a caller runs in the very next turn.  Writing is a plain
``transport.write`` in the caller's own step: no task, no pool, no await.

redis-py still opens the connection, so everything its URL can say (password and user, the
database, TLS, a Unix socket, RESP version) is handled by the code that handles it everywhere
else; once it is open the pipe takes the transport over.  redis-py's packing and its error
classes (``NoScriptError``…) are used as they are.  A cancelled caller's reply is parsed
and dropped, so the queue stays in step; a broken connection fails every caller waiting on
it, and the next call opens a new one.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import hiredis

_INCOMPLETE = object()  # hiredis's answer while a reply is still partly on its way


class _Link(asyncio.Protocol):
    """One open connection: the transport redis-py opened, now answered by this protocol."""

    def __init__(self, pipe: PipelinedConnection, conn: Any) -> None:
        from redis._parsers import BaseParser
        from redis.exceptions import InvalidResponse

        self.pipe = pipe
        self.conn = conn  # kept: its stream writer would close the transport if collected
        # (``_writer`` and ``_close`` are redis-py's own: the version is locked, and every test
        # of tests/gateway/test_redis_pipe.py goes through them.)
        self.transport: asyncio.Transport = conn._writer.transport
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        encoder = conn.encoder
        decoding = (
            {"encoding": encoder.encoding, "errors": encoder.encoding_errors}
            if encoder.decode_responses
            else {}
        )
        self.parser = hiredis.Reader(
            protocolError=InvalidResponse,
            replyError=BaseParser.parse_error,  # Redis's error codes as redis-py's classes
            notEnoughData=_INCOMPLETE,
            **decoding,
        )
        self.transport.set_protocol(self)

    def send(self, args: tuple[bytes | str | int, ...]) -> asyncio.Future[Any]:
        """Write one command now; the future its reply will resolve."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.writelines(self.conn.pack_command(*args))
        return future

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        try:
            while (reply := self.parser.gets()) is not _INCOMPLETE:
                future = self.waiting.popleft()
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except Exception as exc:  # not Redis's protocol, or a reply nobody asked for
            self.pipe._broken(self, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        self.pipe._broken(self, exc or RedisConnectionError("Redis closed the connection"))

    def fail(self, exc: Exception) -> None:
        """Close the connection; every caller still waiting on it hears ``exc``."""
        waiting, self.waiting = self.waiting, collections.deque()
        for future in waiting:
            if not future.done():
                future.set_exception(exc)
        self.conn._close()  # closes the transport, and redis-py no longer counts it open


class PipelinedConnection:
    """Commands on one connection of ``pool``'s, written in call order, answered in order."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()

    async def execute(self, *args: bytes | str | int) -> Any:
        """Send one command; its reply (a Redis error reply is raised as redis-py raises it)."""
        link = self._link if self._link is not None else await self._open()
        return await link.send(args)

    async def _open(self) -> _Link:
        async with self._connecting:  # callers arriving while it connects share it
            link = self._link
            if link is None:
                conn = self.pool.make_connection()
                await conn.connect()  # redis-py's handshake: AUTH, SELECT, HELLO, TLS
                link = self._link = _Link(self, conn)
            return link

    def _broken(self, link: _Link, exc: Exception) -> None:
        """``link`` is unusable: every caller waiting on it hears ``exc``; the next opens anew."""
        if self._link is link:
            self._link = None
        link.fail(exc)

    async def close(self) -> None:
        """Close the connection; a caller still waiting hears that it closed."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        if self._link is not None:
            self._broken(self._link, RedisConnectionError("the limits' connection was closed"))


__all__ = ["PipelinedConnection"]
