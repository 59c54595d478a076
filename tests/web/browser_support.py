"""Running the real ``computeport demo`` for browser tests, and Chromium launch options.

The demo runs as a subprocess on a free port against a temporary directory (its own SQLite
database), with a short simulated history so it is ready in seconds; tests drive it with
Playwright through Debian's Chromium (never a downloaded browser).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.databases import require
from tests.support.processes import answers, free_port, stop, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright with :data:`CHROMIUM_ARGS`, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class RunningDemo:
    url: str
    directory: Path
    log: Path

    @property
    def database(self) -> Path:
        return self.directory / "computeport.sqlite3"


@contextmanager
def running_demo(
    directory: Path, *, history_days: int = 3, timeout_s: float = 180
) -> Iterator[RunningDemo]:
    """``computeport demo`` in a subprocess until the context ends (stopped by its pid)."""
    port = free_port()
    log = directory / "demo.log"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("computeport")),
                "demo",
                "--dir",
                str(directory),
                "--port",
                str(port),
                "--history-days",
                str(history_days),
                "--fresh",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            up = functools.partial(answers, url + "/healthz")
            wait_until("the demo's /healthz", up, process, log, timeout_s)
            yield RunningDemo(url, directory, log)
        finally:
            stop(process)


@contextmanager
def demo_for_browser(directory: Path) -> Iterator[RunningDemo]:
    """The demo a module of browser tests drives; Chromium is checked first (skipped locally
    without it, a failure in CI), so no demo is started for nothing."""
    require(CHROMIUM.exists(), "Chromium (/usr/bin/chromium)")
    with running_demo(directory) as running:
        yield running


CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy")


class CspWatch:
    """Collects the Content-Security-Policy violations Chromium reports on a context's console
    (an inline script or handler the policy refused, a script from elsewhere), so that a test
    fails on a page that only works without the policy."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("console", self._on_console)
        return context

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if any(marker in text for marker in CSP_MARKERS):
            self.violations.append(f"{message.location.get('url', '?')}: {text}")

    def assert_clean(self) -> None:
        assert self.violations == [], "CSP violations:\n" + "\n".join(self.violations)
