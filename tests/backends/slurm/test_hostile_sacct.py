"""Hostile ``sacct --json`` output: numbers beyond any real job, times beyond a calendar, NUL
characters, wrong shapes.  Each is ``BackendOutputInvalid`` naming the job and field, never an
``OverflowError`` or ``AttributeError`` from the middle of ingest."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from computeport.backends import BackendOutputInvalid
from computeport.backends.slurm.sacct import parse_sacct_json
from tests.backends.slurm.recorded_data import data

HUGE = 10**30


def _finished_job(payload: dict[str, Any]) -> dict[str, Any]:
    for job in payload["jobs"]:
        if job["time"]["end"]:
            found: dict[str, Any] = job
            return found
    raise AssertionError("the recording has no finished job")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(job: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = job
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _gpu_count(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(job: dict[str, Any]) -> None:
        job["tres"]["allocated"] = [{"type": "gres", "name": "gpu", "count": value}]

    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("end-huge", _set("time.end", HUGE), "time.end"),
    ("submission-huge", _set("time.submission", HUGE), "time.submission"),
    ("submission-negative", _set("time.submission", -5), "time.submission"),
    ("elapsed-huge", _set("time.elapsed", HUGE), "time.elapsed"),
    ("gpus-huge", _gpu_count(HUGE), "GPU count"),
    ("gpus-negative", _gpu_count(-8), "GPU count"),
    ("tres-not-list", _set("tres.allocated", "gres/gpu=8"), "tres"),
    ("tres-entry-not-object", _set("tres.allocated", [7]), "tres entry"),
    ("account-nul", _set("account", "a\x00b"), "account contains a NUL"),
    ("user-nul", _set("user", "\x00"), "user contains a NUL"),
    ("exit-code-not-object", _set("exit_code", "137"), "exit_code"),
    (
        "signal-huge",
        _set("exit_code", {"status": "SIGNALED", "signal": {"signal_id": HUGE}}),
        "exit_code",
    ),
]


@pytest.mark.parametrize(("change", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_job_is_refused_by_name(
    change: Callable[[dict[str, Any]], None], names: str
) -> None:
    payload = copy.deepcopy(data("sacct.json"))
    job = _finished_job(payload)
    change(job)
    with pytest.raises(BackendOutputInvalid) as info:
        parse_sacct_json(
            payload,
            cluster="cpci",
            since=datetime(2000, 1, 1, tzinfo=UTC),
            until=datetime(2100, 1, 1, tzinfo=UTC),
        )
    assert names in info.value.message
    assert f"sacct job {job['job_id']}" in info.value.message or "jobs[" in info.value.message
