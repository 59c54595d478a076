"""The local upstream servers' processes (llama.cpp's, faster-whisper-server) that the demo,
the tests and the benchmarks start: one way to wait until one answers and one way to stop it,
so the two servers' starters do not each carry their own copy."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

__all__ = ["answers_health", "stop", "wait_ready"]


def answers_health(base_url: str) -> bool:
    """Whether the server behind ``base_url`` (``…/v1``) answers its ``/health`` with 200."""
    try:
        return httpx.get(base_url.removesuffix("/v1") + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s: a server that hangs on shutdown never blocks ours."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(
    process: subprocess.Popen[bytes], base_url: str, *, ready_s: float, log: Path, what: str
) -> str | None:
    """``None`` once the server answers; else why not (it exited, or did not answer within
    ``ready_s``: then it is stopped), naming ``what`` and its log."""
    deadline = time.monotonic() + ready_s
    while not answers_health(base_url):
        if process.poll() is not None:
            return f"the {what} exited (see {log})"
        if time.monotonic() > deadline:
            stop(process)
            return f"the {what} did not answer in {ready_s:.0f} s (see {log})"
        time.sleep(0.2)
    return None
