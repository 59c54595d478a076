"""Conservative backfill: every pending job holds a reservation, so a later job never delays an
earlier one — checked by hand on one case, and as a property (where EASY fails it)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    Estimates,
    Job,
    Placement,
    PolicyConfig,
)
from computeport.simulator import simulate
from tests.simulator.strategies import workloads

POOL = PolicyConfig(
    backfill=Backfill.CONSERVATIVE, placement=Placement.POOL, estimates=Estimates.EXACT
)


def _starts(jobs: list[Job], policy: PolicyConfig, gpus: int = 8) -> dict[str, int | None]:
    result = simulate(jobs, ClusterSpec.homogeneous(gpus, 8), policy)
    return {r.job_id: r.start_s for r in result.jobs}


def test_a_later_job_does_not_take_what_the_second_job_was_planned() -> None:
    # 8 GPUs; A holds 6 until 10. H (4 GPUs) is the head: it starts at 10, leaving 4 there,
    # just what S (4 GPUs, second in the queue) needs to start beside it. T (2 GPUs, 25 s)
    # arrives last and fits now on the 2 free GPUs. EASY protects only H: T fits in the 4 left
    # over at H's start, so it starts at 3 and still holds 2 at 10 — S waits for H's end (20).
    # Conservative planned S at 10 too, so T waits until 20.
    jobs = [Job("A", 0, 6, 10), Job("H", 1, 4, 10), Job("S", 2, 4, 10), Job("T", 3, 2, 25)]
    easy = _starts(jobs, replace(POOL, backfill=Backfill.EASY))
    conservative = _starts(jobs, POOL)
    assert easy == {"A": 0, "H": 10, "S": 20, "T": 3}
    assert conservative == {"A": 0, "H": 10, "S": 10, "T": 20}


@settings(max_examples=200, deadline=None)
@given(
    workloads(max_jobs=12, max_gpus=16, limits_cover_run=True),
    st.integers(1, 16),
    st.integers(1, 80),
)
def test_a_job_added_last_never_delays_the_others(jobs: list[Job], gpus: int, run: int) -> None:
    """With exact estimates the plan is the future: the newcomer only takes what no earlier
    job's reservation holds, so every other start stays exactly where it was."""
    last = max(j.submit_s for j in jobs)
    extra = Job("extra", last, min(gpus, 16), run)
    before = _starts(jobs, POOL, 16)
    after = _starts([*jobs, extra], POOL, 16)
    assert {k: v for k, v in after.items() if k != "extra"} == before


def test_reservations_on_slurms_time_grid_hold_back_a_job_that_fits_exactly() -> None:
    # 8 GPUs; A holds 6 until 70, so H (all 8) is planned at 70. T (2 GPUs, 65 s) fits before
    # H exactly (it ends at 67). Slurm's bf_resolution of 60 s stores H's reservation from 60
    # (its start rounded down) to 120 (its end rounded down, at least one step): T would run
    # into it, so it waits for H's end, as small jobs on the real cluster did.
    jobs = [Job("A", 0, 6, 70), Job("H", 1, 8, 10), Job("T", 2, 2, 65)]
    assert _starts(jobs, POOL) == {"A": 0, "H": 70, "T": 2}
    assert _starts(jobs, replace(POOL, backfill_resolution_s=60)) == {"A": 0, "H": 70, "T": 80}
