"""Reading and checking a ``/v1/audio/…`` request: the multipart form OpenAI's client sends.

Only the shape is checked here (a missing file, an unknown format, a temperature out of range
get a 400 naming the field); whether the file is audio is :mod:`speech_probe`'s question.

Language codes: Whisper's smaller models have no token for Cantonese (``yue``, added in
large-v3): sent as is, the model loops on "The the the…" for seconds.  The gateway sends the
nearest language the model takes (``yue`` → ``zh``, whose written output is Chinese) and says so
(the ``x-language-mapped`` header and ``language_mapping`` in the JSON answers).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from computeport.gateway.errors import bad_request
from computeport.gateway.speech_formats import FORMATS

LANGUAGE_FALLBACKS = {"yue": "zh"}
"""Codes a Whisper model before large-v3 cannot take, and what is sent instead."""
_TAKES_EVERY_CODE = re.compile(r"large-v3|turbo", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True, slots=True)
class SpeechForm:
    """One transcription or translation request, checked (the audio in memory only)."""

    audio: bytes
    filename: str
    content_type: str
    model: str
    response_format: str
    language: str | None
    """What is sent upstream (after the mapping)."""
    requested_language: str | None
    prompt: str | None
    temperature: float | None

    @property
    def mapping(self) -> tuple[str, str] | None:
        """(requested, sent) when the language was mapped, else None."""
        if self.requested_language is None or self.requested_language == self.language:
            return None
        return self.requested_language, self.language or ""


def language_for(model: str, requested: str) -> str:
    """The language code to send ``model`` for ``requested``."""
    if _TAKES_EVERY_CODE.search(model):
        return requested
    return LANGUAGE_FALLBACKS.get(requested, requested)


class InMemoryParts(MultiPartParser):
    """Starlette's multipart parser with its files kept in memory: its default spools a part
    over 1 MB to a temporary file on disk, and audio is never to touch a disk here (privacy).
    The body it parses is already bounded (``Settings.gateway_max_audio_bytes``)."""

    spool_max_size = 1 << 40


async def read_form(request: Request, raw: bytes, translation: bool) -> SpeechForm:
    """Parse the (already bounded) body ``raw`` as the multipart form of ``request``."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise bad_request("The body must be multipart/form-data with a file field.", "file")

    async def replay() -> AsyncGenerator[bytes, None]:
        yield raw

    try:
        form = await InMemoryParts(request.headers, replay(), max_files=1, max_fields=32).parse()
    except Exception as exc:  # the multipart parser's own errors (malformed boundary, …)
        raise bad_request(f"The multipart body cannot be read: {exc}", "file") from None
    try:
        return await _checked(form, translation)
    finally:
        await form.close()


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return value.strip() or None


async def _checked(form: FormData, translation: bool) -> SpeechForm:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise bad_request("file: required, the audio file to transcribe.", "file")
    model = _text(form, "model")
    if model is None:
        raise bad_request("model: required, the name of a served speech model.", "model")
    response_format = _text(form, "response_format") or "json"
    if response_format not in FORMATS:
        raise bad_request(
            f"response_format: {response_format!r} is not one of {', '.join(FORMATS)}.",
            "response_format",
        )
    if (_text(form, "stream") or "false").lower() == "true":
        raise bad_request("stream: transcriptions are not streamed by this gateway.", "stream")
    if "word" in form.getlist("timestamp_granularities[]"):
        raise bad_request(
            "timestamp_granularities[]: only 'segment' is served here.",
            "timestamp_granularities[]",
        )
    temperature = _temperature(_text(form, "temperature"))
    requested = None if translation else _text(form, "language")
    if requested is not None and not _LANGUAGE.match(requested):
        raise bad_request(
            f"language: {requested!r} is not an ISO-639-1/3 code such as 'en', 'zh' or 'yue'.",
            "language",
        )
    return SpeechForm(
        audio=await upload.read(),
        filename=upload.filename or "audio",
        content_type=upload.content_type or "application/octet-stream",
        model=model,
        response_format=response_format,
        language=language_for(model, requested) if requested is not None else None,
        requested_language=requested,
        prompt=_text(form, "prompt"),
        temperature=temperature,
    )


def _temperature(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        t = float(value)
    except ValueError:
        t = -1.0
    if not 0.0 <= t <= 1.0:
        raise bad_request(f"temperature: {value!r} must be a number from 0 to 1.", "temperature")
    return t


__all__ = ["LANGUAGE_FALLBACKS", "SpeechForm", "language_for", "read_form"]
