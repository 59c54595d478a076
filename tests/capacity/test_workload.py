"""Month workloads: reproducible, capacity-independent, and bundling keeps the work."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.capacity.workload import PREFILL_PREFIX, bundle_arrays, month_jobs
from tests.capacity.conftest import SMALL_MODEL


class TestBundling:
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(st.sampled_from([1, 2, 4, 8]), st.integers(1, 20000)), max_size=200),
        st.integers(100, 50000),
        st.integers(1000, 200000),
    )
    def test_work_and_members_are_kept(
        self, jobs: list[tuple[int, int]], below: int, bundle: int
    ) -> None:
        n = len(jobs)
        submit = np.arange(n, dtype=np.int64) * 10
        gpus = np.array([g for g, _ in jobs], dtype=np.int64)
        run = np.array([r for _, r in jobs], dtype=np.int64)
        limit = run * 2
        s, g, r, lim, members = bundle_arrays(submit, gpus, run, limit, below, bundle)
        assert int(np.sum(g * r)) == int(np.sum(gpus * run))
        assert int(np.sum(members)) == n
        assert int(np.sum(lim)) == int(np.sum(limit))
        assert list(s) == sorted(s)
        big = int(np.sum(gpus * run >= below))
        assert int(np.sum(members == 1)) >= big
        # a bundle never outgrows its target by more than one member
        assert all(
            gg * rr < bundle + below for gg, rr, m in zip(g, r, members, strict=True) if m > 1
        )


class TestMonthJobs:
    def test_same_arguments_same_jobs(self) -> None:
        a = month_jobs(SMALL_MODEL, 24 * 40, 3, 1, seed=5)
        b = month_jobs(SMALL_MODEL, 24 * 40, 3, 1, seed=5)
        assert a == b
        assert a != month_jobs(SMALL_MODEL, 24 * 40, 3, 1, seed=6)

    def test_offered_load_is_near_the_demand(self) -> None:
        rate_gpus = 200.0
        mj = month_jobs(SMALL_MODEL, 24 * rate_gpus, 20, 0, seed=1)
        arrivals = [j for j in mj.jobs if not j.job_id.startswith(PREFILL_PREFIX)]
        work = sum(j.gpus * j.run_s for j in arrivals)
        assert abs(work / (20 * 86400) - rate_gpus) / rate_gpus < 0.1

    def test_prefill_fills_the_demand_rate_at_time_zero(self) -> None:
        mj = month_jobs(SMALL_MODEL, 24 * 100.0, 2, 1, seed=2)
        prefill = [j for j in mj.jobs if j.job_id.startswith(PREFILL_PREFIX)]
        assert all(j.submit_s == 0 for j in prefill)
        assert 100 - 8 < sum(j.gpus for j in prefill) <= 100
        assert not set(mj.members) & {j.job_id for j in prefill}

    def test_warmup_jobs_are_not_measured(self) -> None:
        mj = month_jobs(SMALL_MODEL, 24 * 50.0, 2, 1, seed=3)
        by_id = {j.job_id: j for j in mj.jobs}
        assert mj.members
        assert all(by_id[k].submit_s >= mj.measure_from_s for k in mj.members)
        assert any(j.submit_s < mj.measure_from_s for j in mj.jobs if j.job_id[0] == "j")

    def test_bundled_members_count_every_original_job(self) -> None:
        plain = month_jobs(SMALL_MODEL, 24 * 50.0, 3, 0, seed=4)
        bundled = month_jobs(
            SMALL_MODEL, 24 * 50.0, 3, 0, seed=4, bundle_below_gpu_hours=2, bundle_gpu_hours=8
        )
        assert len(bundled.jobs) < len(plain.jobs)
        assert sum(bundled.members.values()) == sum(plain.members.values())
