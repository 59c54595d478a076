"""Real server processes in tests: a free port, polling with a deadline, steady client traffic."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    what: str,
    ok: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout_s: float = 120,
) -> None:
    """Poll ``ok()`` until true while ``process`` lives; bounded (a real process, so polling)."""
    deadline = time.monotonic() + timeout_s
    while not ok():
        if process.poll() is not None:
            code = process.returncode
            raise AssertionError(f"the server exited ({code}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s:.0f} s:\n{log.read_text()}")
        time.sleep(0.2)


def poll(condition: Callable[[], bool], seconds: float = 60.0, every: float = 0.25) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; whether it held.

    For what a real external system does in its own time (a Slurm daemon, a server thread):
    there is no event to wait on, so a bounded poll, never a fixed sleep.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
    return True


def answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == status
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


Request = tuple[str, str, dict[str, Any] | None]


@dataclass
class Traffic:
    """Requests sent back to back in a thread: each one's (start, end, method, status)."""

    url: str
    token: str
    requests: Callable[[int], list[Request]]
    done: list[tuple[float, float, str, int]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> Traffic:
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=120)
        assert self.failure is None, self.failure

    def failed(self) -> list[tuple[str, int]]:
        return [(m, s) for _b, _e, m, s in self.done if s not in (200, 201)]

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
                n = 0
                while not self.stop.is_set():
                    n += 1
                    for method, path, body in self.requests(n):
                        start = time.monotonic()
                        answer = client.request(method, path, json=body)
                        self.done.append((start, time.monotonic(), method, answer.status_code))
                        if method == "POST" and answer.status_code == 201:
                            self.created.append(answer.json()["id"])
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc
