"""How long an upload plays, and whether it is audio at all — read with PyAV (FFmpeg's demuxers).

Why the gateway looks at the audio itself: the duration bounds the request before anything is
forwarded (``Settings.gateway_max_audio_seconds``, a 422 otherwise) and is what the request is
metered by when the upstream does not say; and a file that is not audio must be refused with a
precise 400 here, because the upstream answers it with a bare 500.  Only the container's header
is read (a small probe, no analysis pass: well under a millisecond for WAV and FLAC); the
samples are decoded and counted only for a container whose header carries no duration.  The
audio is held in memory while it passes, never written or logged.
"""

from __future__ import annotations

import io

import av
import av.error

PROBE_OPTIONS = {"probesize": "4096", "analyzeduration": "0"}
"""Read just enough to name the format and its streams: the header is all a duration needs."""


class NotAudio(ValueError):
    """The upload is not audio FFmpeg can read (the reason is FFmpeg's, or no audio stream)."""


def header_seconds(data: bytes) -> float | None:
    """The duration the upload's header states (None: it states none), or :class:`NotAudio`.

    Cheap (a few hundred microseconds for a WAV): the gateway calls it on the event loop.
    """
    if not data:
        raise NotAudio("the file is empty")
    try:
        with av.open(io.BytesIO(data), mode="r", options=PROBE_OPTIONS) as container:
            if not container.streams.audio:
                raise NotAudio("it holds no audio stream")
            stream = container.streams.audio[0]
            if container.duration is not None and container.duration > 0:
                return float(container.duration / av.time_base)
            if stream.duration and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return None
    except av.error.FFmpegError as exc:
        raise NotAudio(_reason(exc)) from None


def decoded_seconds(data: bytes) -> float:
    """The duration from the decoded samples (for a container whose header states none); as
    long as the audio is, so the gateway runs it in a worker thread."""
    try:
        with av.open(io.BytesIO(data), mode="r", options=PROBE_OPTIONS) as container:
            samples, rate = 0, 0
            for frame in container.decode(container.streams.audio[0]):
                samples += frame.samples
                rate = frame.sample_rate
    except av.error.FFmpegError as exc:
        raise NotAudio(_reason(exc)) from None
    if not rate:
        raise NotAudio("its audio stream has no samples")
    return samples / rate


def _reason(exc: av.error.FFmpegError) -> str:
    return f"FFmpeg cannot read it as audio ({exc.strerror or type(exc).__name__})"


__all__ = ["NotAudio", "decoded_seconds", "header_seconds"]
