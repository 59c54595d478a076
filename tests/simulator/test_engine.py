"""The steppable engine as the virtual cluster uses it: submit, step, read, cancel, account."""

from __future__ import annotations

import pytest

from computeport.kit.errors import NotFound
from computeport.scheduling import ClusterSpec, CoreJobState, Job, PolicyConfig
from computeport.simulator import Engine


def job(name: str, submit: int, gpus: int, run: int, limit: int = 0) -> Job:
    return Job(name, submit_s=submit, gpus=gpus, run_s=run, time_limit_s=limit, project="p")


@pytest.fixture
def engine() -> Engine:
    e = Engine(ClusterSpec.homogeneous(16, 8), PolicyConfig(), origin_s=1_790_000_000)
    e.submit_many(
        [
            job("A", 0, 8, 3600, 3600),
            job("B", 0, 8, 3600, 7200),
            job("C", 60, 16, 600, 600),
            job("D", 120, 16, 600, 600),
        ]
    )
    return e


class TestEngine:
    def test_steps_and_reasons(self, engine: Engine) -> None:
        engine.run_until(120)
        assert engine.now_s == 120
        assert [s.job_id for s in engine.running()] == ["A", "B"]
        assert engine.running()[0].nodes == ("gpu-0000",)
        assert engine.running()[0].expected_end_s == 3600
        pending = engine.pending()
        assert [s.job_id for s in pending] == ["C", "D"]
        # C's shadow: A ends by its estimate at 3600, B at 7200 → both nodes whole at 7200;
        # origin 1_790_000_000 is 2026-09-21 14:13:20 UTC → 7200 s later is 16:13.
        assert pending[0].reason == "waiting: resources, reserved for 16:13"
        assert pending[1].reason == "waiting: priority"

    def test_cancel_pending_and_running(self, engine: Engine) -> None:
        engine.run_until(120)
        assert engine.cancel("C")
        assert engine.cancel("A")
        assert not engine.cancel("A")
        assert engine.status("C").state is CoreJobState.CANCELLED
        records = engine.take_accounting()
        assert [(r.job_id, r.start_s, r.end_s, r.state) for r in records] == [
            ("A", 0, 120, CoreJobState.CANCELLED)
        ]
        engine.run()
        results = {r.job_id: r for r in engine.results()}
        # B ends at 3600 → D (both nodes) 3600–4200
        assert (results["D"].start_s, results["D"].end_s) == (3600, 4200)
        assert results["C"].start_s is None

    def test_accounting_records_each_ended_attempt(self, engine: Engine) -> None:
        engine.run()
        records = engine.take_accounting()
        assert [(r.job_id, r.gpu_seconds) for r in records] == [
            ("A", 8 * 3600),
            ("B", 8 * 3600),
            ("C", 16 * 600),
            ("D", 16 * 600),
        ]
        assert records[0].gpu_type == "H800"
        assert engine.take_accounting() == []

    def test_live_submission_arrives_now(self, engine: Engine) -> None:
        engine.run_until(100)
        engine.submit(job("late", 0, 1, 10))
        engine.run_until(100)
        status = engine.status("late")
        assert status.state is CoreJobState.PENDING
        assert status.submit_s == 0

    def test_unknown_job(self, engine: Engine) -> None:
        with pytest.raises(NotFound):
            engine.cancel("nope")

    def test_next_event(self, engine: Engine) -> None:
        assert engine.next_event_s() == 0
        engine.run_until(0)
        assert engine.next_event_s() == 60
