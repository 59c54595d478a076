"""One Redis connection, pipelined: each command is written as it is called, one reader
answers the callers in order.

Why not redis-py's pipeline per batch (what the limits used before): a batch waited for the
next turn of the event loop to leave, then took a connection from the pool (a lock, a
health poll of the socket, metrics hooks), and its callers woke only after the whole batch
was read.  Under the gateway's load a turn of the loop is a millisecond or more, and admission
paid two or three of them.  Redis answers the commands of one connection in the order they
came, so a queue of futures matched reply by reply is all the bookkeeping a pipelined
connection needs: the caller's own step writes its command (no task, no pool), and the one
reader wakes each caller with its reply as soon as it is read.

redis-py still does the protocol: packing (:meth:`Connection.pack_command`), the socket,
and parsing replies (hiredis when installed).  A cancelled caller's reply is read and
dropped, so the queue stays in step; a broken connection fails every caller waiting on it,
and the next call opens a new one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any


class PipelinedConnection:
    """Commands on one connection of ``pool``'s, written in call order, answered in order."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._conn: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._connecting = asyncio.Lock()

    async def execute(self, *args: bytes | str | int) -> Any:
        """Send one command; its reply (a Redis error reply is raised as redis-py raises it)."""
        conn = self._conn if self._conn is not None else await self._open()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)  # before the write: the reader may see the reply next
        try:
            await conn.send_packed_command(conn.pack_command(*args), check_health=False)
        except Exception as exc:  # redis-py has closed the socket: this caller hears it too
            self._broken(conn, exc)
            if not future.done():
                future.set_exception(exc)
        return await future

    async def _open(self) -> Any:
        async with self._connecting:  # callers arriving while it connects share it
            if self._conn is None:
                conn = self.pool.make_connection()
                await conn.connect()
                self._conn = conn
                self._reader = asyncio.get_running_loop().create_task(self._read(conn))
            return self._conn

    async def _read(self, conn: Any) -> None:
        from redis.exceptions import ResponseError

        try:
            while True:
                try:
                    reply: Any = await conn.read_response()
                except ResponseError as exc:  # this command's error reply, not the socket's
                    reply = exc
                future = self._waiting.popleft()
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection broke (or Redis closed it while idle)
            self._broken(conn, exc)
            with contextlib.suppress(Exception):  # (closed already unless the reply was odd)
                await conn.disconnect(nowait=True)

    def _broken(self, conn: Any, exc: Exception) -> None:
        """``conn`` is unusable: every caller waiting on it hears ``exc``; the next opens anew."""
        if self._conn is not conn:
            return
        self._conn = None
        waiting, self._waiting = self._waiting, collections.deque()
        for future in waiting:
            if not future.done():
                future.set_exception(exc)
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()  # (redis-py closed the socket when the read or write failed)

    async def close(self) -> None:
        """Close the connection; a caller still waiting hears that it closed."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        conn, reader = self._conn, self._reader
        if conn is not None:
            self._broken(conn, RedisConnectionError("the limits' connection was closed"))
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)
        if conn is not None:
            await conn.disconnect()


__all__ = ["PipelinedConnection"]
