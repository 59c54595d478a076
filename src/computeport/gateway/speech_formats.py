"""The transcription's answer in the format the client asked for, made by the gateway.

Why here: the speech upstream (faster-whisper-server) answers only ``json`` and
``verbose_json``; OpenAI's API also offers ``text``, ``srt`` and ``vtt``.  The gateway always
asks the upstream for ``verbose_json`` (it carries the segments and the audio's ``duration``,
which the request is metered by) and renders what the client asked for from it.  The JSON
formats also carry ``usage: {type: "duration", seconds}`` (OpenAI's shape; the upstream gives
none) and, when the requested language was mapped to one the model takes, the mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


def timestamp(seconds: float, separator: str) -> str:
    """``HH:MM:SS<sep>mmm`` (``,`` for SubRip, ``.`` for WebVTT)."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _cues(segments: Iterable[Mapping[str, Any]], separator: str) -> list[str]:
    return [
        f"{timestamp(float(s.get('start', 0)), separator)} --> "
        f"{timestamp(float(s.get('end', 0)), separator)}\n{str(s.get('text', '')).strip()}\n"
        for s in segments
    ]


def srt(segments: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(f"{i}\n{cue}" for i, cue in enumerate(_cues(segments, ","), 1))


def vtt(segments: Iterable[Mapping[str, Any]]) -> str:
    return "WEBVTT\n\n" + "\n".join(_cues(segments, "."))


def render(
    response_format: str,
    verbose: Mapping[str, Any],
    seconds: float,
    mapping: tuple[str, str] | None,
) -> tuple[bytes, str]:
    """(body, media type) of the answer in ``response_format`` from the upstream's
    ``verbose_json``; ``seconds`` is the audio metered; ``mapping`` (asked, sent) if any."""
    text = str(verbose.get("text", ""))
    segments = [s for s in verbose.get("segments") or [] if isinstance(s, Mapping)]
    media = MEDIA_TYPES[response_format]
    if response_format == "text":
        return (text.strip() + "\n").encode(), media
    if response_format == "srt":
        return srt(segments).encode(), media
    if response_format == "vtt":
        return vtt(segments).encode(), media
    body: dict[str, Any] = {"text": text}
    if response_format == "verbose_json":
        body = {
            "task": verbose.get("task"),
            "language": verbose.get("language"),
            "duration": verbose.get("duration", seconds),
            "text": text,
            "segments": segments,
        }
        if verbose.get("words") is not None:
            body["words"] = verbose["words"]
    body["usage"] = {"type": "duration", "seconds": seconds}
    if mapping is not None:
        body["language_mapping"] = {"requested": mapping[0], "sent": mapping[1]}
    return json.dumps(body, ensure_ascii=False).encode(), media


__all__ = ["FORMATS", "MEDIA_TYPES", "render", "srt", "timestamp", "vtt"]
