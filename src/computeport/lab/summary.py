"""What a replay says, side by side: waits and slowdowns per category and organisation.

Only jobs submitted inside the window ``[from_s, to_s)`` are measured (earlier jobs are replayed
so the window starts with the queue it really had). Definitions are DESIGN.md's: wait = start −
submit, bounded slowdown = max(1, (end − submit) / max(run, 10 s)); utilisation is the GPU-time
of all jobs inside the window over the cluster's GPU-time of the window. A job that never
starts (a spent budget) is counted apart, not as a wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from computeport.lab.history import History, Member
from computeport.lab.replay import Replayed
from computeport.simulator import JobResult

__all__ = ["Baseline", "GroupStats", "LongWait", "Outcome", "baseline_error", "summarise"]

BSLD_FLOOR_S = 10
LONGEST = 10


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Waits and slowdowns of one group of jobs (all, a category, an organisation)."""

    group: str
    jobs: int
    never_started: int
    wait_mean_s: float
    wait_p50_s: float
    wait_p95_s: float
    slowdown_mean: float
    slowdown_p95: float

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "jobs": self.jobs,
            "never_started": self.never_started,
            "wait_mean_s": self.wait_mean_s,
            "wait_p50_s": self.wait_p50_s,
            "wait_p95_s": self.wait_p95_s,
            "slowdown_mean": self.slowdown_mean,
            "slowdown_p95": self.slowdown_p95,
        }


@dataclass(frozen=True, slots=True)
class LongWait:
    job_id: str
    account: str
    gpus: int
    wait_s: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scenario's answer for the window."""

    name: str
    overall: GroupStats
    by_category: tuple[GroupStats, ...]
    by_org: tuple[GroupStats, ...]
    utilisation: float
    longest: tuple[LongWait, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "overall": self.overall.to_dict(),
            "by_category": [g.to_dict() for g in self.by_category],
            "by_org": [g.to_dict() for g in self.by_org],
            "utilisation": self.utilisation,
            "longest_waits": [
                {"job_id": w.job_id, "account": w.account, "gpus": w.gpus, "wait_s": w.wait_s}
                for w in self.longest
            ],
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """How well the baseline replay reproduces what happened (jobs started in the window)."""

    compared: int
    exact: int
    mean_abs_start_error_s: float
    max_abs_start_error_s: int
    actual_wait_mean_s: float
    replayed_wait_mean_s: float

    def to_dict(self) -> dict[str, object]:
        return {
            "compared": self.compared,
            "exact": self.exact,
            "mean_abs_start_error_s": self.mean_abs_start_error_s,
            "max_abs_start_error_s": self.max_abs_start_error_s,
            "actual_wait_mean_s": self.actual_wait_mean_s,
            "replayed_wait_mean_s": self.replayed_wait_mean_s,
        }


def _stats(group: str, rows: Sequence[JobResult]) -> GroupStats:
    started = [r for r in rows if r.start_s is not None and r.end_s is not None]
    if not started:
        return GroupStats(group, len(rows), len(rows), 0.0, 0.0, 0.0, 0.0, 0.0)
    waits = np.array([r.start_s - r.submit_s for r in started], dtype=np.float64)  # type: ignore[operator]
    jct = np.array([r.end_s - r.submit_s for r in started], dtype=np.float64)  # type: ignore[operator]
    runs = np.array([max(r.run_s, BSLD_FLOOR_S) for r in started], dtype=np.float64)
    bsld = np.maximum(1.0, jct / runs)
    p50, p95 = np.percentile(waits, [50, 95])
    return GroupStats(
        group,
        len(rows),
        len(rows) - len(started),
        round(float(waits.mean()), 3),
        round(float(p50), 3),
        round(float(p95), 3),
        round(float(bsld.mean()), 4),
        round(float(np.percentile(bsld, 95)), 4),
    )


def _in_window(replayed: Replayed, from_s: int, to_s: int) -> list[JobResult]:
    return [r for r in replayed.jobs if from_s <= r.submit_s < to_s]


def summarise(
    replayed: Replayed,
    members: Mapping[str, Member],
    accounts: Mapping[str, str],
    from_s: int,
    to_s: int,
    busy_span: tuple[int, int] | None = None,
) -> Outcome:
    """The window's numbers; ``accounts`` maps job id → account (who to group a job under).

    Utilisation is measured over ``busy_span`` (default: the window) — the part of the window
    the history covers, so a window reaching before the records began is not diluted.
    """
    rows = _in_window(replayed, from_s, to_s)
    span_lo, span_hi = busy_span or (from_s, to_s)

    def member(job_id: str) -> Member:
        account = accounts.get(job_id, "")
        return members.get(account) or Member(account or "unknown", "unknown")

    by_cat: dict[str, list[JobResult]] = {}
    by_org: dict[str, list[JobResult]] = {}
    for r in rows:
        m = member(r.job_id)
        by_cat.setdefault(m.category, []).append(r)
        by_org.setdefault(m.org, []).append(r)
    busy = 0
    for r in replayed.jobs:
        if r.start_s is None or r.end_s is None:
            continue
        lo, hi = max(r.start_s, span_lo), min(r.end_s, span_hi)
        if hi > lo:
            busy += r.gpus * (hi - lo)
    span = max(1, span_hi - span_lo)
    waits = sorted(
        (r for r in rows if r.start_s is not None),
        key=lambda r: (-(r.start_s - r.submit_s), r.submit_s),  # type: ignore[operator]
    )[:LONGEST]
    return Outcome(
        replayed.scenario.name,
        _stats("all", rows),
        tuple(_stats(k, v) for k, v in sorted(by_cat.items())),
        tuple(_stats(k, v) for k, v in sorted(by_org.items())),
        round(busy / (replayed.gpus * span), 6),
        tuple(
            LongWait(r.job_id, accounts.get(r.job_id, ""), r.gpus, r.start_s - r.submit_s)  # type: ignore[operator]
            for r in waits
        ),
    )


def baseline_error(history: History, replayed: Replayed, from_s: int, to_s: int) -> Baseline:
    """Compare the baseline's starts with the real ones, for jobs really started before ``to_s``."""
    actual = history.actual_starts
    errors: list[int] = []
    waits_actual: list[int] = []
    waits_replay: list[int] = []
    for r in _in_window(replayed, from_s, to_s):
        real = actual.get(r.job_id)
        if real is None or real >= to_s or r.start_s is None:
            continue
        errors.append(r.start_s - real)
        waits_actual.append(real - r.submit_s)
        waits_replay.append(r.start_s - r.submit_s)
    if not errors:
        return Baseline(0, 0, 0.0, 0, 0.0, 0.0)
    abs_err = [abs(e) for e in errors]
    return Baseline(
        len(errors),
        sum(1 for e in errors if e == 0),
        round(sum(abs_err) / len(abs_err), 3),
        max(abs_err),
        round(sum(waits_actual) / len(waits_actual), 3),
        round(sum(waits_replay) / len(waits_replay), 3),
    )
