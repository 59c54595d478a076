"""Metrics as DESIGN.md defines them, on a schedule small enough to check by hand."""

from __future__ import annotations

import pytest

from computeport.scheduling import CoreJobState
from computeport.simulator import JobResult, compute_metrics


def result(
    name: str,
    submit: int,
    start: int | None,
    end: int | None,
    gpus: int,
    run: int,
    group: str = "g",
    state: CoreJobState = CoreJobState.FINISHED,
) -> JobResult:
    return JobResult(name, submit, start, end, gpus, run, state, "", group, "subsidised", 1, 0)


def test_hand_checked_metrics() -> None:
    # 2 GPUs. A: 1 GPU, submitted 0, runs 0–10. B: 2 GPUs, submitted 0, runs 10–15.
    # wait: 0 and 10 → mean 5. JCT: 10 and 15 → mean 12.5. Bounded slowdown: A 10/10 = 1,
    # B 15/max(5, 10) = 1.5 → mean 1.25. Utilisation: (1×10 + 2×5) / (2 × 15) = 2/3.
    # Hour buckets: one, 15 s long, busy 20 GPU-s → 20 / (2 × 3600).
    # Queued: B waits 0–10 → 10 / 3600 jobs on average.
    m = compute_metrics(
        [
            result("A", 0, 0, 10, 1, 10),
            result("B", 0, 10, 15, 2, 5, group="h"),
            result("X", 3, None, None, 9, 5, state=CoreJobState.REJECTED),
        ],
        gpus=2,
    )
    assert m.jobs == 3
    assert m.rejected == ["X"]
    assert m.makespan_s == 15
    assert m.utilisation == pytest.approx(2 / 3, abs=1e-6)
    assert m.wait_s.mean == 5
    assert m.wait_s.p50 == 5
    assert m.jct_s.mean == 12.5
    assert m.bounded_slowdown.mean == 1.25
    assert m.series_utilisation == [pytest.approx(20 / 7200, abs=1e-6)]
    assert m.series_queued == [pytest.approx(10 / 3600, abs=1e-6)]
    body = m.to_dict()
    assert m.by_group["h"].to_dict()["wait_s"] == m.by_group["h"].wait_s.to_dict()
    assert m.by_group["h"].wait_s.mean == 10
    assert body["by_group"] == {g: gm.to_dict() for g, gm in m.by_group.items()}
    assert body["series"] == {
        "bucket_s": 3600,
        "utilisation": m.series_utilisation,
        "queued": m.series_queued,
    }
    assert set(body) >= {
        "jobs",
        "rejected",
        "gpus",
        "makespan_s",
        "utilisation",
        "wait_s",
        "jct_s",
        "bounded_slowdown",
        "preemptions",
        "lost_gpu_hours",
        "by_group",
        "series",
    }


def test_empty_run() -> None:
    m = compute_metrics([], gpus=8)
    assert m.utilisation == 0.0
    assert m.series_utilisation == []
