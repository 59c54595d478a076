"""The gateway's meter: usage events buffered in memory, written in batches off the hot path.

Why: a database write per request would cost more than the whole proxying (issue 13 asks for
no write per request on the hot path).  :meth:`Meter.record` only appends to a list; a
background task hands the list to :func:`~computeport.metering.token_ingest.
ingest_token_usage` every ``Settings.gateway_flush_seconds`` in a worker thread, one unit of
work per batch.  A batch that fails to write is kept and retried (the ingest is idempotent by
request id, so a batch written whose commit was not acknowledged is not billed twice); the
app's shutdown flushes what is left.  What a crash of the process loses is at most one
interval's records — said in docs/gateway.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from computeport.kit.clock import Clock
from computeport.metering.token_ingest import TokenUsageEvent, ingest_token_usage

log = logging.getLogger(__name__)

UnitOfWork = Callable[[], AbstractContextManager[Session]]


class Meter:
    """Buffers :class:`TokenUsageEvent` s and writes them in batches."""

    def __init__(self, unit_of_work: UnitOfWork, clock: Clock, interval: float) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.interval = interval
        self.pending: list[TokenUsageEvent] = []
        self.recorded = 0
        """Events handed to the meter by this process."""
        self.stored = 0
        """Events whose batch was written (new or already there): ``recorded − stored`` are
        still in memory."""
        self.written = 0
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def record(self, event: TokenUsageEvent) -> None:
        """Queue one request's usage (no I/O)."""
        self.pending.append(event)
        self.recorded += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.pending:
            await asyncio.sleep(self.interval)  # the flush cadence, not a synchronisation
            await self.flush()

    async def flush(self) -> int:
        """Write what is pending now; return how many were new."""
        async with self._flush_lock:
            batch, self.pending = self.pending, []
            if not batch:
                return 0
            try:
                new = await run_in_threadpool(self._write, batch)
            except Exception:
                log.exception("gateway meter: %d usage records not written; kept", len(batch))
                self.pending[:0] = batch
                return 0
            self.written += new
            self.stored += len(batch)
            return new

    def _write(self, batch: list[TokenUsageEvent]) -> int:
        with self.unit_of_work() as session:
            return ingest_token_usage(session, self.clock, batch)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self.flush()


__all__ = ["Meter"]
