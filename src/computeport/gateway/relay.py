"""The gateway proper: authenticate, check, admit, forward, meter — one request at a time.

Privacy: nothing here logs or stores a prompt or an answer.  The organisation's data policy
(residency, redaction: :func:`~computeport.gateway.privacy.apply_data_policy`) is applied once,
after the checks and before the quota hold, so what leaves is what the policy let out.  Bodies
are held in memory only while they pass; what is kept of a request is the
:class:`~computeport.metering.token_ingest.TokenUsageEvent` (who, which model, token counts,
timings, status, how many identifiers were redacted).

Retries: a request moves to the next upstream only on a failure *before the first byte was
sent* (connection refused, connect timeout, a kept-alive connection the upstream had closed),
so an upstream never answers — and bills — one request twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from computeport.gateway.budgets import audio_cost_minor, token_bound_minor, token_cost_minor
from computeport.gateway.checks import (
    CHECKS,
    completion_bound,
    parse_body,
    prompt_bound,
    prompt_estimate,
)
from computeport.gateway.errors import (
    GatewayError,
    bad_request,
    limits_unavailable,
    no_upstream,
    too_large,
    unauthorised,
    unknown_model,
    unpriced,
    upstream_failed,
)
from computeport.gateway.keys import looks_like_key
from computeport.gateway.lookups import DeploymentInfo, KeyInfo, Lookups
from computeport.gateway.meter import Meter
from computeport.gateway.pool import UpstreamPool
from computeport.gateway.privacy import apply_data_policy
from computeport.gateway.quotas import Hold, Quotas
from computeport.gateway.sse import StreamTally, split_events, usage_of
from computeport.gateway.token_count import (
    TokenCounter,
    answer_text,
    prompt_text,
    streamed_text,
)
from computeport.gateway.upstream import (
    Dropped,
    NotReached,
    UpstreamClient,
    UpstreamError,
    UpstreamResponse,
)
from computeport.kit.clock import Clock
from computeport.metering.token_ingest import TokenUsageEvent
from computeport.pricing.book import AudioPrice, TokenPrice
from computeport.settings import Settings

log = logging.getLogger(__name__)
_RETRYABLE: tuple[type[UpstreamError], ...] = (NotReached, Dropped)
NOT_REACHED: tuple[type[UpstreamError], ...] = (NotReached,)
DROPPED_RETRIES = 2
"""Tries again on the same upstream after a connection broke before any answer."""
"""Failures that prove the upstream never got the request (a request that is expensive to
answer twice — a transcription — moves to the next upstream only on these)."""
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass
class ProxiedCall:
    """One request under way: who, what, and what it reserved."""

    request_id: str
    key: KeyInfo
    model: str
    endpoint: str
    started_at: Any
    t0: float
    hold: Hold
    prompt_estimate: int
    upstreams: tuple[str, ...]
    """The upstreams the organisation's data policy lets serve it (residency)."""
    redactions: int = 0
    price: TokenPrice | None = None
    streamed: bool = False
    audio_price: AudioPrice | None = None
    """A speech request's price per audio minute: it settles by its audio, not its tokens."""
    body: dict[str, Any] | None = None
    """The parsed request, in memory while the call lasts (counting tokens needs its text)."""
    upstream: str | None = None
    """The upstream that answered (its tokenizer counts when it reported no usage)."""


class Gateway:
    """Everything one API process needs to proxy: caches, pool, quotas, meter, HTTP client."""

    def __init__(
        self,
        settings: Settings,
        lookups: Lookups,
        quotas: Quotas,
        meter: Meter,
        clock: Clock,
        pool: UpstreamPool | None = None,
    ) -> None:
        self.settings = settings
        self.lookups = lookups
        self.quotas = quotas
        self.meter = meter
        self.clock = clock
        self.pool = pool or UpstreamPool()
        self.client = UpstreamClient(settings.gateway_upstream_timeout)
        """The one upstream HTTP client of this process (:mod:`~computeport.gateway.upstream`)."""
        self.tokens = TokenCounter(self.client, clock)
        """Counts with the upstreams' tokenizers when they report no usage."""
        self._background: set[asyncio.Task[None]] = set()

    @property
    def background_pending(self) -> int:
        """Work still under way after answers were sent (token counts, settlements, closes):
        a request is metered only once its count is done, so whoever waits for the meter (a
        shutdown, a test) waits for this to reach zero first."""
        return len(self._background)

    async def close(self) -> None:
        # Background work first: a count still under way meters its request, which spawns
        # the settling of its hold; then the meter writes what it holds.
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.lookups.close()
        await self.meter.close()
        await self.quotas.close()
        await self.client.close()

    # -- who and what --------------------------------------------------------------------

    async def authenticate(self, request: Request) -> KeyInfo:
        header = request.headers.get("authorization", "")
        scheme, _, plaintext = header.partition(" ")
        plaintext = plaintext.strip()
        if scheme.lower() != "bearer" or not looks_like_key(plaintext):
            raise unauthorised("Send a gateway key: Authorization: Bearer cpk_…")
        info = await self.lookups.key(plaintext, self.clock.now())
        if info is None:
            raise unauthorised("The key is unknown or revoked.")
        return info

    async def deployments(self) -> dict[str, DeploymentInfo]:
        return await self.lookups.deployments()

    async def read_body(self, request: Request, limit: int | None = None) -> bytes:
        """The body, refused with 413 as soon as it passes ``limit`` (by default
        ``Settings.gateway_max_body_bytes``) — declared or streamed — never read whole first."""
        limit = limit or self.settings.gateway_max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def deployment_for(self, model: str, modality: str) -> DeploymentInfo:
        """The deployment serving ``model``: 404 if none, 400 if it serves the other kind."""
        deployment = (await self.deployments()).get(model)
        if deployment is None:
            raise unknown_model(model)
        if deployment.modality != modality:
            route = "/v1/audio/transcriptions" if deployment.modality == "speech" else "/v1/chat"
            raise bad_request(
                f"model: {model!r} is a {deployment.modality} model; send it to {route}.",
                "model",
            )
        return deployment

    async def admit(self, key: KeyInfo, tokens: int, now: datetime, bound_minor: int) -> Hold:
        """The one admission of every route: rate limits and a money hold of ``bound_minor``
        cents (:meth:`Quotas.admit`); 503 when the limits store does not answer (refused
        rather than served unheld)."""
        try:
            return await self.quotas.admit(key, tokens, now, bound_minor=bound_minor)
        except GatewayError:
            raise
        except Exception:
            log.exception("gateway: the limits store did not answer")
            raise limits_unavailable() from None

    # -- the request ----------------------------------------------------------------------

    async def handle(self, request: Request, endpoint: str) -> Response:
        try:
            key = await self.authenticate(request)
            raw = await self.read_body(request)
            body = parse_body(raw)
            model = body["model"]
            deployment = await self.deployment_for(model, "text")
            CHECKS[endpoint](body)
            admitted = apply_data_policy(key, deployment, endpoint, body, raw)
            body, raw = admitted.body, admitted.raw
            bound = completion_bound(body) if endpoint != "embeddings" else 0
            estimate = prompt_estimate(raw)
            now = self.clock.now()
            price = self.lookups.token_price(model, now)
            if key.budgets and price is None:
                raise unpriced(model, key.budgets[0].label)
            most = token_bound_minor(price, prompt_bound(raw), bound)
            hold = await self.admit(key, estimate + bound, now, most)
        except GatewayError as exc:
            return exc.response()
        call = ProxiedCall(
            uuid.uuid4().hex,
            key,
            model,
            endpoint,
            now,
            time.perf_counter(),
            hold,
            estimate,
            admitted.upstreams,
            admitted.redactions,
            price,
        )
        call.body = body
        path = "/" + endpoint.replace(".", "/")
        try:
            if body.get("stream") is True and endpoint != "embeddings":
                return await self._stream(call, deployment, path, body, raw)
            return await self._plain(call, deployment, path, raw)
        except GatewayError as exc:
            self.finish(call, exc.status, 0, 0, estimated=False)
            exc.headers["x-request-id"] = call.request_id
            return exc.response()

    async def send(
        self,
        call: ProxiedCall,
        deployment: DeploymentInfo,
        path: str,
        content: bytes,
        *,
        content_type: str = "application/json",
        retryable: tuple[type[UpstreamError], ...] = _RETRYABLE,
    ) -> UpstreamResponse:
        """The upstream's response (headers read), trying the next upstream on a failure
        before anything was sent; 503 when none answers.  ``content`` is sent whole (one
        write: a multipart upload too, encoded once by the caller), only to the upstreams the
        organisation's data policy allows (``call.upstreams``)."""
        headers = {"content-type": content_type, "x-request-id": call.request_id}
        for url in self.pool.order(call.model, call.upstreams):
            response = await self._post(url + path, content, headers, retryable)
            if response is None:
                self.pool.mark_down(url)
                continue
            self.pool.mark_up(url)
            call.upstream = url
            return response
        raise no_upstream(call.model)

    async def _post(
        self,
        url: str,
        content: bytes,
        headers: dict[str, str],
        retryable: tuple[type[UpstreamError], ...],
    ) -> UpstreamResponse | None:
        """The upstream's response, or ``None`` after a ``retryable`` failure (the caller
        moves on).  A connection that broke before any answer (:class:`Dropped`: mostly a
        kept-alive one the upstream had closed) says nothing of the upstream's health, so it
        is tried again on this upstream, on another connection, up to
        :data:`DROPPED_RETRIES` times, before the upstream counts as failed."""
        for attempt in range(DROPPED_RETRIES + 1):
            try:
                return await self.client.post(url, content, headers)
            except Dropped:
                if Dropped not in retryable:
                    raise
                if attempt == DROPPED_RETRIES:
                    return None
            except retryable:
                return None
        return None

    async def _plain(
        self, call: ProxiedCall, deployment: DeploymentInfo, path: str, raw: bytes
    ) -> Response:
        try:
            response = await self.send(call, deployment, path, raw)
            content = await response.read()
        except UpstreamError as exc:
            raise upstream_failed(f"The upstream failed: {exc.kind}") from None
        status = response.status
        if status < 400:
            try:
                payload = json.loads(content)
            except ValueError:
                payload = None
            found = usage_of(payload)
            if found is not None:
                self.finish(call, status, *found, estimated=False)
            else:  # no usage: the model's tokenizer counts, after the answer is sent
                self._spawn(
                    self._finish_counted(
                        call, status, answer_text(payload), call.prompt_estimate, 0
                    )
                )
        else:  # refused upstream: nothing billed
            self.finish(call, status, 0, 0, estimated=False)
        return Response(
            content,
            status_code=status,
            media_type=response.content_type,
            headers={"x-request-id": call.request_id},
        )

    async def _stream(
        self,
        call: ProxiedCall,
        deployment: DeploymentInfo,
        path: str,
        body: dict[str, Any],
        raw: bytes,
    ) -> Response:
        call.streamed = True
        options = body.get("stream_options")
        wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        if wants_usage:  # the client asked for usage itself: its bytes pass as they came
            content = raw
        else:
            forwarded = dict(body)
            forwarded["stream_options"] = {**(options or {}), "include_usage": True}
            content = json.dumps(forwarded).encode()
        try:
            response = await self.send(call, deployment, path, content)
            error = await response.read() if response.status >= 400 else None
        except UpstreamError as exc:
            raise upstream_failed(f"The upstream failed: {exc.kind}") from None
        if error is not None:
            self.finish(call, response.status, 0, 0, estimated=False)
            return Response(
                error,
                status_code=response.status,
                media_type=response.content_type,
                headers={"x-request-id": call.request_id},
            )
        tally = StreamTally(wants_usage, started=call.t0)
        deadline = call.t0 + self.quotas.hold_seconds - 1

        async def events() -> AsyncIterator[tuple[bytes, bool]]:
            rest = b""
            async for chunk in response.chunks():
                if time.perf_counter() > deadline:  # its hold would lapse: end it here
                    return
                complete, rest = split_events(rest + chunk)
                # The events that arrived together leave together: one write to the client,
                # not one per event (nothing waits for it: they were all here already).  The
                # last of them carries the end of the response, when the upstream's has come.
                out = b"".join([tally.see(event) for event in complete])
                last = not rest and response.ended()
                if out:
                    yield out, last
                if last:
                    return
            if rest:
                yield tally.see(rest), False

        def ended(completed: bool) -> None:
            status = 200 if completed else 499
            if tally.usage is not None:
                self.finish(call, status, *tally.usage, estimated=False, ttft_ms=tally.ttft_ms)
            else:  # e.g. the client left before the usage event: the tokenizer counts
                self._spawn(
                    self._finish_counted(
                        call,
                        status,
                        streamed_text(tally.texts),
                        call.prompt_estimate,
                        tally.text_events,
                        ttft_ms=tally.ttft_ms,
                    )
                )
            if completed:  # read to its end: the connection goes back to the pool now
                response.close()
            else:  # abandoned mid-answer: the generator is closed first, in a task
                self._spawn(_close(stream, response))

        stream = events()
        return RelayedStream(stream, ended, call.request_id)

    # -- metering -------------------------------------------------------------------------

    def finish(
        self,
        call: ProxiedCall,
        status: int,
        prompt: int,
        completion: int,
        *,
        estimated: bool,
        ttft_ms: int | None = None,
        audio_ms: int = 0,
    ) -> None:
        """Meter the request once and settle its quota hold (no I/O on this path) with its
        cost as billing will rate it: tokens, or for speech ``audio_ms`` of audio."""
        self.meter.record(
            TokenUsageEvent(
                request_id=call.request_id,
                organisation_id=call.key.organisation_id,
                award_id=call.key.award_id,
                key_id=call.key.id,
                model=call.model,
                endpoint=call.endpoint,
                started_at=call.started_at,
                prompt_tokens=prompt,
                completion_tokens=completion,
                estimated=estimated,
                streamed=call.streamed,
                latency_ms=round((time.perf_counter() - call.t0) * 1000),
                ttft_ms=ttft_ms,
                status=status,
                redactions=call.redactions,
                audio_ms=audio_ms,
            )
        )
        cost = token_cost_minor(call.price, prompt, completion) + audio_cost_minor(
            call.audio_price, audio_ms
        )
        self._spawn(self.quotas.settle(call.hold, prompt + completion, cost))

    async def _finish_counted(
        self,
        call: ProxiedCall,
        status: int,
        answer: str,
        prompt: int,
        completion: int,
        *,
        ttft_ms: int | None = None,
    ) -> None:
        """Meter a request whose upstream reported no usage: its prompt and answer counted by
        the upstream's tokenizer where it has one (else ``prompt`` and ``completion``, the
        rough estimates), marked estimated either way."""
        if call.upstream is not None and call.body is not None:
            text = prompt_text(call.body)
            counted = await self.tokens.count(call.upstream, text)
            prompt = counted if counted is not None else prompt
            counted = await self.tokens.count(call.upstream, answer)
            # Never fewer than the text events sent: a server streams each decoding step as
            # an event, and the text of two steps can tokenise again as one.
            completion = max(counted, completion) if counted is not None else completion
        call.body = None
        self.finish(call, status, prompt, completion, estimated=True, ttft_ms=ttft_ms)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:  # a hold left unsettled expires (gateway_hold_seconds)
                log.exception("gateway: background work failed (a settlement or a close)")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def _close(stream: AsyncIterator[Any], response: UpstreamResponse) -> None:
    """Close what a finished or abandoned stream holds (the upstream connection first)."""
    aclose = getattr(stream, "aclose", None)
    try:
        if aclose is not None:
            await aclose()
    except RuntimeError:  # still running in a task being torn down: it closes itself
        pass
    response.close()


class RelayedStream(Response):
    """Server-sent events passed on as they come (``events``: each write and whether it is the
    response's last); ``ended`` is called exactly once, with
    whether the client got the whole answer — also when the client goes away mid-answer
    (the stream is cancelled then, and what was sent so far is metered)."""

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[tuple[bytes, bool]],
        ended: Callable[[bool], None],
        request_id: str,
    ) -> None:
        self.events = events
        self.ended = ended
        self.status_code = 200
        self.background = None
        self.init_headers({**_STREAM_HEADERS, "x-request-id": request_id})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import anyio

        completed = False
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                closed = False  # (the last events and the end of the body go in one write)
                async for chunk, closed in self.events:
                    message = {"type": "http.response.body", "body": chunk, "more_body": not closed}
                    await send(message)
                if not closed:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                completed = True
                group.cancel_scope.cancel()
        finally:
            self.ended(completed)


__all__ = ["Gateway", "ProxiedCall", "RelayedStream"]
