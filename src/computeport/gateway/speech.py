"""``/v1/audio/transcriptions`` and ``/v1/audio/translations``: speech through the gateway.

One request, in order (nothing is forwarded or billed before step 5):

1. the key, as for chat (401 for an unknown or revoked one);
2. the upload, read with a bound (``Settings.gateway_max_audio_bytes``: 413 as soon as it is
   passed) and parsed as OpenAI's multipart form (:mod:`speech_form`: 400 naming the field);
3. the model must be a ``speech`` deployment (404 unknown, 400 a text model) served at a site
   the organisation's data policy allows (403, :func:`~computeport.gateway.privacy.
   allowed_upstreams`: residency applies to audio; its content is sound, never redacted);
4. the audio's duration, read from its header (:mod:`speech_probe`): a file FFmpeg cannot read
   as audio is a 400 on ``file`` (the upstream would answer a bare 500), one longer than
   ``Settings.gateway_max_audio_seconds`` a 422;
5. admission (:func:`admit_speech`: rate limits and the money hold of duration × price), then
   the upload is forwarded, only to the allowed upstreams, as multipart with ``model_name``
   (what faster-whisper-server reads) beside ``model``, always asking for ``verbose_json``;
   it moves to another upstream only when the first was never reached (a transcription is not
   worth risking twice);
6. an upstream 5xx or a connection dropped mid-request is a 502 problem, a 4xx a 400 with the
   upstream's message; the answer is rendered in the format asked (:mod:`speech_formats`) and
   metered by the upstream's ``duration`` (else the probe's), in milliseconds, through the
   same meter and ingest as tokens — once, and only when served.

Privacy: the audio and the text are held in memory while they pass; neither is logged or stored.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from computeport.gateway.budgets import audio_bound_minor
from computeport.gateway.errors import GatewayError, bad_request, unpriced, upstream_failed
from computeport.gateway.lookups import KeyInfo
from computeport.gateway.privacy import allowed_upstreams
from computeport.gateway.quotas import Hold
from computeport.gateway.relay import NOT_REACHED, Gateway, ProxiedCall
from computeport.gateway.speech_form import SpeechForm, read_form
from computeport.gateway.speech_formats import render
from computeport.gateway.speech_probe import NotAudio, decoded_seconds, header_seconds
from computeport.gateway.upstream import UpstreamError
from computeport.pricing.book import AudioPrice

ENDPOINTS = {
    "audio.transcriptions": "/audio/transcriptions",
    "audio.translations": "/audio/translations",
}


async def admit_speech(
    gateway: Gateway, key: KeyInfo, model: str, seconds: float, now: datetime
) -> tuple[Hold, AudioPrice | None]:
    """Admit one speech request of ``seconds`` of audio for ``key``, or raise the refusal.

    The same admission as chat's (:meth:`Gateway.admit`): the per-minute request limits (its
    tokens are none) and a money hold of its bound, ``seconds`` × the model's audio-minute
    price rounded up (:func:`audio_bound_minor`), against every budget that applies.  A model
    without an audio price cannot be held: refused where a budget applies.  The price comes
    back so that :meth:`Gateway.finish` settles with the audio's rated cost, the invoice's.
    """
    price = gateway.lookups.audio_price(model, now)
    if key.budgets and price is None:
        raise unpriced(model, key.budgets[0].label, "audio-minute")
    bound = audio_bound_minor(price, Decimal(repr(seconds))) if price is not None else 0
    return await gateway.admit(key, 0, now, bound), price


async def handle_speech(gateway: Gateway, request: Request, endpoint: str) -> Response:
    """Serve one transcription or translation (see the module's steps)."""
    try:
        key = await gateway.authenticate(request)
        raw = await gateway.read_body(request, gateway.settings.gateway_max_audio_bytes)
        form = await read_form(request, raw, translation=endpoint == "audio.translations")
        del raw
        deployment = await gateway.deployment_for(form.model, "speech")
        upstreams = allowed_upstreams(key, deployment)
        seconds = await _duration(gateway, form)
        now = gateway.clock.now()
        hold, price = await admit_speech(gateway, key, form.model, seconds, now)
    except GatewayError as exc:
        return exc.response()
    call = ProxiedCall(
        uuid.uuid4().hex,
        key,
        form.model,
        endpoint,
        now,
        time.perf_counter(),
        hold,
        0,
        upstreams,
        audio_price=price,
    )
    try:
        content, content_type = upstream_body(form)
        response = await gateway.send(
            call,
            deployment,
            ENDPOINTS[endpoint],
            content,
            content_type=content_type,
            retryable=NOT_REACHED,
        )
        verbose = upstream_answer(response.status, await response.read())
    except UpstreamError as exc:
        return _failed(gateway, call, upstream_failed(f"The speech upstream failed: {exc.kind}"))
    except GatewayError as exc:
        return _failed(gateway, call, exc)
    duration = verbose.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0:
        seconds = float(duration)
    audio_ms = round(seconds * 1000)
    body, media_type = render(form.response_format, verbose, audio_ms / 1000, form.mapping)
    gateway.finish(
        call, 200, 0, 0, estimated=not isinstance(duration, int | float), audio_ms=audio_ms
    )
    headers = {"x-request-id": call.request_id, "x-audio-seconds": f"{audio_ms / 1000:.3f}"}
    if form.mapping is not None:
        headers["x-language-mapped"] = f"{form.mapping[0]}->{form.mapping[1]}"
    return Response(body, media_type=media_type, headers=headers)


async def _duration(gateway: Gateway, form: SpeechForm) -> float:
    try:
        seconds = header_seconds(form.audio)
        if seconds is None:
            seconds = await run_in_threadpool(decoded_seconds, form.audio)
    except NotAudio as exc:
        raise bad_request(f"file: {form.filename!r} is not audio: {exc}.", "file") from None
    limit = gateway.settings.gateway_max_audio_seconds
    if seconds > limit:
        raise GatewayError(
            422,
            f"file: the audio lasts {seconds:.1f} s; the gateway accepts at most {limit:.0f} s.",
            "invalid_request_error",
            "audio_too_long",
            "file",
        )
    return seconds


def upstream_body(form: SpeechForm) -> tuple[bytes, str]:
    """(multipart body, its content type) for the upstream, encoded once: sent as one write,
    not in httpx's 8 KB chunks (a third of the gateway's cost on an 11 s WAV, measured)."""
    fields = {"model": form.model, "model_name": form.model, "response_format": "verbose_json"}
    if form.language is not None:
        fields["language"] = form.language
    if form.prompt is not None:
        fields["prompt"] = form.prompt
    if form.temperature is not None:
        fields["temperature"] = repr(form.temperature)
    files = {"file": (form.filename, form.audio, form.content_type)}
    encoded = httpx.Request("POST", "http://upstream/", data=fields, files=files)
    return encoded.read(), encoded.headers["content-type"]


def upstream_answer(status: int, content: bytes) -> dict[str, Any]:
    """The upstream's verbose_json (its status and body), or the error the client gets
    instead."""
    if status >= 500:
        raise upstream_failed(f"The speech upstream failed (HTTP {status}).")
    try:
        found = json.loads(content)
    except ValueError:
        found = None
    if status >= 400:
        raise GatewayError(
            400 if status != 404 else 404,
            f"The speech upstream refused the request: {_message(found) or f'HTTP {status}'}",
            "invalid_request_error",
            "upstream_refused",
        )
    if not isinstance(found, dict) or not isinstance(found.get("text"), str):
        raise upstream_failed("The speech upstream answered without a transcription.")
    return found


def _message(found: Any) -> str | None:
    """The message in an OpenAI-shaped error, or FastAPI's ``detail`` wrapping one."""
    while isinstance(found, dict):
        if isinstance(found.get("message"), str):
            return str(found["message"])
        found = found.get("error") or found.get("detail")
    return found if isinstance(found, str) else None


def _failed(gateway: Gateway, call: ProxiedCall, exc: GatewayError) -> Response:
    """Meter the failed request at no audio (an error for the figures, nothing billed)."""
    gateway.finish(call, exc.status, 0, 0, estimated=False)
    exc.headers["x-request-id"] = call.request_id
    return exc.response()


__all__ = ["ENDPOINTS", "admit_speech", "handle_speech", "upstream_answer"]
