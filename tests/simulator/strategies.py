"""Hypothesis strategies: small random workloads."""

from __future__ import annotations

from hypothesis import strategies as st

from computeport.scheduling import Job, Qos


@st.composite
def workloads(
    draw: st.DrawFn,
    max_jobs: int = 12,
    max_gpus: int = 20,
    qos: bool = False,
    limits_cover_run: bool = False,
) -> list[Job]:
    n = draw(st.integers(1, max_jobs))
    jobs = []
    t = 0
    for i in range(n):
        t += draw(st.integers(0, 30))
        run = draw(st.integers(1, 100))
        if limits_cover_run:
            limit = run + draw(st.integers(0, 60))
        else:
            limit = draw(st.sampled_from([0, run, run + 17, max(1, run // 2), 120]))
        jobs.append(
            Job(
                f"j{i}",
                submit_s=t,
                gpus=draw(st.sampled_from([1, 1, 2, 3, 4, 8, 12, 16, max_gpus + 1])),
                run_s=run,
                time_limit_s=limit,
                project=draw(st.sampled_from(["a", "b", "c"])),
                group=draw(st.sampled_from(["a", "b"])),
                qos=draw(st.sampled_from([Qos.SUBSIDISED, Qos.PAID, Qos.SCAVENGER]))
                if qos
                else Qos.SUBSIDISED,
            )
        )
    return jobs
