"""The speech route's pure parts: the formats the gateway makes, the language mapping, and how
an upstream's answer becomes the client's (a bare 500 is a 502 problem, never passed on)."""

from __future__ import annotations

import json

import httpx
import pytest

from computeport.gateway.errors import GatewayError
from computeport.gateway.speech import upstream_answer
from computeport.gateway.speech_form import language_for
from computeport.gateway.speech_formats import render, srt, timestamp, vtt

SEGMENTS = [
    {"id": 0, "start": 0.0, "end": 2.5, "text": " Hello there."},
    {"id": 1, "start": 2.5, "end": 3661.042, "text": " The invoice is due."},
]
VERBOSE = {
    "task": "transcribe",
    "language": "en",
    "duration": 3661.5,
    "text": " Hello there. The invoice is due.",
    "segments": SEGMENTS,
}


def test_timestamps_in_both_subtitle_dialects() -> None:
    assert timestamp(3661.042, ",") == "01:01:01,042"
    assert timestamp(0.0005, ".") == "00:00:00.000"
    assert srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n"
        "2\n00:00:02,500 --> 01:01:01,042\nThe invoice is due.\n"
    )
    assert vtt(SEGMENTS).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n")


def test_json_answers_carry_the_usage_and_the_mapping() -> None:
    body, media = render("json", VERBOSE, 3661.5, ("yue", "zh"))
    assert media == "application/json"
    assert json.loads(body) == {
        "text": " Hello there. The invoice is due.",
        "usage": {"type": "duration", "seconds": 3661.5},
        "language_mapping": {"requested": "yue", "sent": "zh"},
    }
    verbose = json.loads(render("verbose_json", VERBOSE, 3661.5, None)[0])
    assert (verbose["duration"], len(verbose["segments"])) == (3661.5, 2)
    assert "language_mapping" not in verbose
    assert render("text", VERBOSE, 1.0, None)[0] == b"Hello there. The invoice is due.\n"


def test_cantonese_is_mapped_only_for_models_without_it() -> None:
    assert language_for("whisper-1", "yue") == "zh"
    assert language_for("whisper-base", "en") == "en"
    assert language_for("whisper-large-v3", "yue") == "yue"


def _response(status: int, body: object) -> tuple[int, bytes]:
    return status, json.dumps(body).encode() if body is not None else b"Internal Server Error"


def test_an_upstream_failure_is_a_502_and_a_refusal_a_400() -> None:
    with pytest.raises(GatewayError) as bare:
        upstream_answer(*_response(500, None))
    assert (bare.value.status, bare.value.code) == (502, "upstream_error")
    with pytest.raises(GatewayError) as refused:
        upstream_answer(*_response(400, {"detail": {"error": {"message": "unknown model"}}}))
    assert refused.value.status == 400
    assert refused.value.message.endswith("unknown model")
    with pytest.raises(GatewayError) as empty:
        upstream_answer(*_response(200, {"segments": []}))
    assert empty.value.status == 502
    assert upstream_answer(*_response(200, VERBOSE))["duration"] == 3661.5


def test_an_upload_over_a_megabyte_stays_in_memory() -> None:
    import asyncio
    from collections.abc import AsyncGenerator

    from starlette.datastructures import Headers, UploadFile

    from computeport.gateway.speech_form import InMemoryParts

    request = httpx.Request(
        "POST", "http://gw/", files={"file": ("a.wav", bytes(3 << 20), "audio/wav")}
    )
    body = request.read()

    async def parse() -> bool:
        async def chunks() -> AsyncGenerator[bytes, None]:
            yield body

        headers = Headers({"content-type": request.headers["content-type"]})
        form = await InMemoryParts(headers, chunks(), max_files=1, max_fields=32).parse()
        upload = form["file"]
        assert isinstance(upload, UploadFile)
        rolled = bool(getattr(upload.file, "_rolled", True))  # spooled to a temporary file?
        await form.close()
        return rolled

    assert asyncio.run(parse()) is False
