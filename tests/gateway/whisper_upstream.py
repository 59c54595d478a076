"""A real speech upstream for the gateway tests: faster-whisper-server serving the multilingual
Whisper base that the wheels ship, started by :mod:`computeport.gateway.whisper_server` (the
same recipe ``computeport demo`` uses: joining the model, the YAML config, the health wait).

Speech is made at test time with espeak-ng and sox (:func:`speak`): English clear enough to
assert words, Cantonese and Mandarin loosely.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from computeport.gateway import whisper_server
from computeport.gateway.whisper_server import WhisperServer as SpeechUpstream
from tests.support.databases import require
from tests.support.processes import free_port

ENGLISH = (
    "Hello, this is a test of the transcription service. The quick brown fox jumps over the "
    "lazy dog. Please send the invoice to the accounting department by Friday."
)
CANTONESE = "今日天氣好好，我哋去公園散步啦。唔該將發票寄去會計部。"
MANDARIN_PINYIN = "jin1 tian1 tian1 qi4 hen3 hao3. wo3 men5 qu4 gong1 yuan2 san4 bu4 ba5."


def start_whisper(workdir: Path, name: str = "whisper-1") -> SpeechUpstream:
    """faster-whisper-server on a free port serving the model as ``name`` (the deployment's
    name: the gateway forwards it as ``model_name``)."""
    return whisper_server.start(workdir, free_port(), name=name)


def require_speech_tools() -> None:
    """espeak-ng and sox (scripts/setup installs them): skipped locally, a failure in CI."""
    for tool in ("espeak-ng", "sox"):
        require(shutil.which(tool) is not None, tool)


def speak(text: str, voice: str, out: Path, *, speed: int = 150) -> Path:
    """``text`` spoken by espeak-ng as 16 kHz mono 16-bit WAV (what Whisper takes)."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return out


__all__ = [
    "CANTONESE",
    "ENGLISH",
    "MANDARIN_PINYIN",
    "SpeechUpstream",
    "require_speech_tools",
    "speak",
    "start_whisper",
]
