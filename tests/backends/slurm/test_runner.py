"""The runner: argv only, timeouts and connection errors retried with backoff, clear errors."""

from __future__ import annotations

import pathlib
import subprocess
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.backends import BackendOutputInvalid, BackendUnavailable
from computeport.backends.slurm.runner import (
    CommandResult,
    RetryPolicy,
    SlurmCommandFailed,
    SlurmRunner,
)

UNREACHABLE = (
    "squeue: error: slurm_load_jobs error: Unable to contact slurm controller (connect failure)"
)


class Script:
    """A fake executor answering from a list of outcomes; records calls and sleeps."""

    def __init__(self, *outcomes: CommandResult | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[tuple[str, ...], float, str | None, dict[str, str]]] = []
        self.slept: list[float] = []

    def __call__(
        self, argv: Sequence[str], timeout: float, input_text: str | None, env: Mapping[str, str]
    ) -> CommandResult:
        self.calls.append((tuple(argv), timeout, input_text, dict(env)))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def runner(self, attempts: int = 3, slurm_conf: pathlib.Path | None = None) -> SlurmRunner:
        return SlurmRunner(
            timeout_seconds=2.0,
            retry=RetryPolicy(attempts=attempts, first_delay_seconds=0.5, factor=2.0),
            executor=self,
            sleep=self.slept.append,
            base_env={"PATH": "/usr/bin", "SECRET": "x"},
            slurm_conf=slurm_conf,
        )


def ok(out: str = "") -> CommandResult:
    return CommandResult((), 0, out, "")


def failed(err: str, rc: int = 1) -> CommandResult:
    return CommandResult((), rc, "", err)


def timeout() -> subprocess.TimeoutExpired:
    return subprocess.TimeoutExpired(["squeue"], 2.0)


def test_success_returns_output_and_names_the_config() -> None:
    script = Script(ok("42"))
    runner = script.runner(slurm_conf=__import__("pathlib").Path("/x/slurm.conf"))
    assert runner.run(["squeue", "--json"]).stdout == "42"
    argv, timeout_s, _, env = script.calls[0]
    assert argv == ("squeue", "--json")
    assert timeout_s == 2.0
    assert env["SLURM_CONF"] == "/x/slurm.conf"
    assert env["TZ"] == "UTC"


def test_a_shell_string_is_refused() -> None:
    with pytest.raises(TypeError, match="argv list"):
        # A str is a Sequence[str] to mypy: only the runner's own check catches this.
        Script().runner().run("squeue --json")


def test_unreachable_controller_is_retried_with_backoff_then_succeeds() -> None:
    script = Script(failed(UNREACHABLE), timeout(), ok("done"))
    assert script.runner().run(["squeue"]).stdout == "done"
    assert script.slept == [0.5, 1.0]


def test_after_the_last_try_the_error_says_what_how_often_and_why() -> None:
    script = Script(failed(UNREACHABLE), failed(UNREACHABLE), failed(UNREACHABLE))
    with pytest.raises(BackendUnavailable) as err:
        script.runner().run(["squeue", "--json"])
    assert "`squeue --json` failed 3 times" in err.value.message
    assert "Unable to contact slurm controller" in err.value.message
    assert err.value.status_code == 503


def test_timeouts_exhaust_the_retries() -> None:
    script = Script(timeout(), timeout(), timeout())
    with pytest.raises(BackendUnavailable, match="no answer within 2 s"):
        script.runner().run(["sacct"])
    assert len(script.calls) == 3


def test_a_refusal_is_not_retried() -> None:
    script = Script(failed("sbatch: error: Invalid account or account/partition combination"))
    with pytest.raises(SlurmCommandFailed, match="Invalid account"):
        script.runner().run(["sbatch"], idempotent=False)
    assert len(script.calls) == 1
    assert script.slept == []


def test_a_non_idempotent_command_is_not_retried_after_a_timeout() -> None:
    script = Script(timeout(), ok("1"))
    with pytest.raises(BackendUnavailable, match="may or may not have taken effect"):
        script.runner().run(["sbatch"], idempotent=False)
    assert len(script.calls) == 1


def test_a_non_idempotent_command_is_retried_when_it_provably_never_arrived() -> None:
    script = Script(failed(UNREACHABLE), ok("17"))
    assert script.runner().run(["sbatch"], idempotent=False).stdout == "17"


def test_the_job_environment_replaces_ours() -> None:
    script = Script(ok("1"))
    script.runner(slurm_conf=__import__("pathlib").Path("/c")).run(
        ["sbatch"], environment={"PATH": "/bin"}, input_text="#!/bin/sh\n"
    )
    _, _, stdin, env = script.calls[0]
    assert stdin == "#!/bin/sh\n"
    assert "SECRET" not in env
    assert env == {"PATH": "/bin", "TZ": "UTC", "SLURM_CONF": "/c"}


def test_truncated_json_is_retried_then_reported() -> None:
    script = Script(ok('{"jobs": ['), ok('{"jobs": []}'))
    assert script.runner().run_json(["squeue", "--json"]) == {"jobs": []}
    script = Script(ok("{"), ok("{"), ok("[]"))
    with pytest.raises(BackendOutputInvalid, match="invalid JSON"):
        script.runner().run_json(["squeue", "--json"])


def test_a_missing_binary_is_a_clear_error() -> None:
    script = Script(FileNotFoundError("sacct"))
    with pytest.raises(BackendUnavailable, match="not installed"):
        script.runner().run(["sacct"])


@given(
    attempts=st.integers(1, 8),
    first=st.floats(0.01, 5),
    factor=st.floats(1, 4),
    cap=st.floats(0.01, 30),
)
def test_backoff_grows_and_is_capped(
    attempts: int, first: float, factor: float, cap: float
) -> None:
    delays = RetryPolicy(attempts, first, factor, cap).delays()
    assert len(delays) == attempts - 1
    assert all(d <= cap for d in delays)
    assert delays == sorted(delays)


def test_slurmrestd_without_a_socket_is_unavailable(tmp_path: pathlib.Path) -> None:
    from computeport.backends.slurm.rest import SLURMRESTD_API_VERSION, SlurmRestClient

    client = SlurmRestClient(tmp_path / "missing.sock", timeout_seconds=1)
    with pytest.raises(BackendUnavailable, match=f"/slurm/{SLURMRESTD_API_VERSION}/ping"):
        client.ping()
