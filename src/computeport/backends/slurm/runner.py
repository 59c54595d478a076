"""Run Slurm's commands: argv lists only (never a shell), a timeout, retries with backoff.

Every Slurm command computeport runs goes through :class:`SlurmRunner.run`, so the rules live
in one place:

* argv is a list handed to ``subprocess.run`` without a shell; user-provided text (a batch
  script) travels on stdin, never on a command line.
* each try has a timeout; a timeout or an error that says the controller or database could not
  be reached is retried with exponential backoff; after the last try
  :class:`~computeport.backends.errors.BackendUnavailable` says which command failed, how
  often, for how long, and Slurm's last words.
* a command that is not idempotent (``sbatch``) is only retried when Slurm provably did not get
  it (connection refused); a timeout there is reported at once, because a retry could submit
  the job twice.
* any other failure (bad account, bad option) is not retried: :class:`SlurmCommandFailed`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from computeport.backends.errors import BackendError, BackendOutputInvalid, BackendUnavailable

__all__ = [
    "CommandResult",
    "Executor",
    "RetryPolicy",
    "SlurmCommandFailed",
    "SlurmRunner",
    "subprocess_executor",
]

# Slurm's words for "I could not reach the controller / slurmdbd": safe to retry.
_UNREACHABLE = re.compile(
    r"Unable to contact slurm controller|Connection refused|Socket timed out|"
    r"Zero Bytes were transmitted|Transport endpoint is not connected|"
    r"Resource temporarily unavailable|failed to open persistent connection|"
    r"Problem talking to the database|slurmdbd.*(?:down|not responding)|"
    r"Communication connection failure|Connection reset by peer|Slurm backup controller",
    re.IGNORECASE,
)
# Of those, the ones that prove the request never arrived (safe even for sbatch).
_NEVER_ARRIVED = re.compile(
    r"Connection refused|Unable to contact slurm controller \(connect failure\)", re.IGNORECASE
)


class SlurmCommandFailed(BackendError):
    """Slurm refused the command (not a connectivity problem); retrying would not help."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr.strip()
        self.stdout = stdout.strip()
        said = last_line(stderr) or last_line(stdout) or "no message"
        super().__init__(f"`{' '.join(argv[:2])}` failed (exit {returncode}): {said}")


@dataclass(frozen=True, slots=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


Executor = Callable[[Sequence[str], float, "str | None", Mapping[str, str]], CommandResult]
"""Runs argv with a timeout, stdin text and environment; raises subprocess.TimeoutExpired."""


def subprocess_executor(
    argv: Sequence[str], timeout: float, input_text: str | None, env: Mapping[str, str]
) -> CommandResult:
    """The real executor: ``subprocess.run`` without a shell."""
    proc = subprocess.run(  # argv list, shell=False: nothing is ever parsed by a shell
        list(argv),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env),
        check=False,
    )
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; waits first_delay, ×factor each time, at most max_delay."""

    attempts: int = 4
    first_delay_seconds: float = 0.5
    factor: float = 2.0
    max_delay_seconds: float = 8.0

    def delays(self) -> list[float]:
        out, delay = [], self.first_delay_seconds
        for _ in range(max(self.attempts - 1, 0)):
            out.append(min(delay, self.max_delay_seconds))
            delay *= self.factor
        return out


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


class SlurmRunner:
    """Runs Slurm client commands against one cluster (``SLURM_CONF``)."""

    def __init__(
        self,
        *,
        slurm_conf: Path | None = None,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        executor: Executor = subprocess_executor,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.slurm_conf = slurm_conf
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        self._execute = executor
        self._sleep = sleep
        self._monotonic = monotonic
        env = dict(os.environ if base_env is None else base_env)
        if slurm_conf is not None:
            # Always name the config: without it Slurm asks DNS for SRV records (configless).
            env["SLURM_CONF"] = str(slurm_conf)
        env.pop("SLURM_JWT", None)
        env["TZ"] = "UTC"  # sacct reads and prints times in local time: make that UTC
        self._env = env

    def run(
        self,
        argv: Sequence[str],
        *,
        input_text: str | None = None,
        idempotent: bool = True,
        environment: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run ``argv``; retry what is safe to retry; raise a typed error when it fails.

        ``environment`` replaces the inherited environment (``SLURM_CONF`` and ``TZ`` are kept):
        ``sbatch`` passes its environment on to the job, which must not see ours.
        """
        if isinstance(argv, str):  # a shell string would be a bug: refuse loudly
            raise TypeError("SlurmRunner.run takes an argv list, never a string")
        argv = tuple(argv)
        env = self._env
        if environment is not None:
            env = {**environment, "TZ": "UTC"}
            if "SLURM_CONF" in self._env:
                env["SLURM_CONF"] = self._env["SLURM_CONF"]
        delays = self.retry.delays()
        started = self._monotonic()
        why = ""
        for attempt in range(len(delays) + 1):
            try:
                result = self._execute(argv, self.timeout_seconds, input_text, env)
            except subprocess.TimeoutExpired:
                why = f"no answer within {self.timeout_seconds:g} s"
                if not idempotent:
                    raise BackendUnavailable(
                        f"`{argv[0]}` got {why}; it may or may not have taken effect, "
                        "so it was not retried"
                    ) from None
            except FileNotFoundError:
                raise BackendUnavailable(
                    f"`{argv[0]}` is not installed (Slurm client commands are needed)"
                ) from None
            else:
                if result.returncode == 0:
                    return result
                if not _UNREACHABLE.search(result.stderr) or (
                    not idempotent and not _NEVER_ARRIVED.search(result.stderr)
                ):
                    raise SlurmCommandFailed(argv, result.returncode, result.stderr, result.stdout)
                why = last_line(result.stderr)
            if attempt < len(delays):
                self._sleep(delays[attempt])
        elapsed = self._monotonic() - started
        raise BackendUnavailable(
            f"`{' '.join(argv[:2])}` failed {len(delays) + 1} times over {elapsed:.1f} s "
            f"(timeout {self.timeout_seconds:g} s each): {why}"
        )

    def run_json(self, argv: Sequence[str]) -> dict[str, Any]:
        """Run a ``--json`` command; output that is not a JSON object counts as a failure.

        Truncated output (a daemon died mid-answer) is retried like a connection error.
        """
        delays = self.retry.delays()
        problem = ""
        for attempt in range(len(delays) + 1):
            result = self.run(argv)
            try:
                data = json.loads(result.stdout)
            except json.JSONDecodeError as exc:
                problem = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
            else:
                if isinstance(data, dict):
                    return data
                problem = "the top level is not an object"
            if attempt < len(delays):
                self._sleep(delays[attempt])
        raise BackendOutputInvalid(f"`{' '.join(argv[:2])}` printed invalid JSON: {problem}")
