"""Capacity planning benchmarks: the coarse job model's error, and the seed scenario's plan.

    .venv/bin/python benchmarks/bench_capacity.py error [--gpus 512] [--seeds 3]
    .venv/bin/python benchmarks/bench_capacity.py plan  [--seeds 20] [--workers 2]
    .venv/bin/python benchmarks/bench_capacity.py flows [--seeds 200]

``error`` simulates months of a smaller case (``--gpus`` H800, Philly-fitted jobs, the seed
scenario's policy) in full and with each coarsening of the coarse model (sampled days;
+ bundled small jobs; + a scaled-down pool) and prints the error of each metric against the
full month, per offered load. ``plan`` runs the whole ``computeport capacity plan`` of
``scenarios/cyberport.toml`` (plan, search, check) and prints its wall time by phase and the
CPU seconds of the process and its workers (steadier than wall time on a shared machine); issue
#14 asks for at most 60 s on the 2-core machine.

Measured 2026-12-05 00:10–00:45 UTC (issue #14, second round: idle months on 5 seeds, a lean
month, tasks that fill both workers; see benchmarks/README.md), ``plan --seeds 20 --workers
2``: main 136 CPU-s / 79.9 s wall on a quiet machine, this branch 113–116 CPU-s at load 2–9,
the same answer, probes and check. ``--save plan.json`` writes the plan to diff two runs.

Measured 2026-12-04 20:50–21:35 UTC (issue #14: saturated months settled on 5 seeds, the
search on verdicts; see benchmarks/README.md), 2-core machine at load 8–19, ``plan --seeds 20
--workers 2``: main 321 CPU-s (813 s wall), saturated at ≥ 1.25 × supply 220 CPU-s (1,139 s
wall at the higher load), at ≥ 1.1 (the scenario's setting) 183 CPU-s (718 s wall), the same
answer word for word each time.

Measured 2026-12-04 19:00 UTC (issue #14, months memoised across plan/search/check), quiet
2-core machine (load < 2), ``plan --seeds 4 --workers 2``, main vs this change run side by side:
main 193 s wall / 163 CPU-s (plan 81, search 81, verify 30); memo 177 s / 131 CPU-s (plan 81,
search 75, verify 19); identical answer (2025-06 at 97.2%; +2,176 then +384 SR-next GPUs at
Sandy Ridge by 2026-07 / 2027-07; 18,770 PF). Profile: one coarse month ~0.24 s, nearly all in
the simulator's run_until and the scheduler's pass/backfill (the pure-Python reference core).

Measured 2026-12-04 (issue #15, demand as the scheme's five flows), 2-core machine shared with
four other helpers (load average ~10), CLI at nice 10, 20 seeds, 2 workers:

* ``computeport capacity plan scenarios/cyberport.toml``: 874 s wall (simulation ~14 min,
  search, check). Answer: runs out 2025-06 (utilisation 96.5% > 95%), driven by new entrants;
  +2,176 SR-next GPUs (4,896 PF) at Sandy Ridge by 2026-07, then +384 (864 PF) by 2027-07;
  the envelope runs out 2027-11 (p50); with the build, 18,770 PF by the horizon's end (the
  city's 15,000 PF target for 2030 is met).
* ``flows --seeds 200``: the flows alone 6.5 s for 200 seeds x 60 months; a backtest of one
  year (10 months x 200 seeds) 0.5–4 s, of three years 1–16 s, depending on the load.
* ``computeport capacity backtest scenarios/cyberport.toml --history-days 365``: 74 s wall
  (most of it making the demo's year); p50 demand error 1.6% / 1.6% / 3.8% at 1 / 2 / 3
  months, utilisation error ≤ 1.9 points; p10–p90 coverage 88–100% of the 17 outcomes that
  test the band (two ingestions of the same year).

Measured 2026-11-25 on the 2-core machine, shared with other jobs (load average 5–10):

* ``plan --seeds 20 --workers 2``: 560 s wall, 373 CPU-s (1,200 month simulations, 4 search
  probes, 300 check simulations); the CLI itself (same work, plus the plot): 778 s wall, 369 s
  user. Answer: runs out 2026-01 (utilisation 99.7% > 95%); +640 SR-next GPUs (1,440 PF) at
  Sandy Ridge by 2028-02; 6 months of 2026-H1 break before Sandy Ridge can exist.
* ``error --gpus 1024 --seeds 2 --loads 0.8,0.95,1.1``: |Δ utilisation| ≤ 0.044 (sampled
  days), 0.046 (+ bundles), 0.053 (+ pool scaled 1,024 → 688); 135–326× faster than a full
  month; the broken/kept flag agrees at 0.8 and 1.1 for every variant, and at 0.95 (on the
  threshold) only for the scaled one. Waits: none below saturation in either; above it
  (1.1) a 3-day window sees a shorter backlog than a month (median 23 h vs 54 h), the scaled
  pool much shorter (1 h): wait bands of overloaded months are lower bounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from computeport.capacity.evaluate import SimSettings, job_model_for, simulate_month
from computeport.capacity.fanout import LocalRunner
from computeport.capacity.scenario import load_scenario
from computeport.capacity.service import plan_capacity

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO / ".." / "shared" / "traces"
SCENARIO = REPO / "scenarios" / "cyberport.toml"


def error(gpus: int, seeds: int, loads: list[float]) -> None:
    scenario = load_scenario(SCENARIO)
    model = job_model_for(scenario, str(TRACES))
    base = SimSettings.of(scenario)
    full = dataclasses.replace(base, model="full", max_sim_gpus=0)
    sampled = dataclasses.replace(base, aggregate_below_gpu_hours=0, max_sim_gpus=0)
    bundled = dataclasses.replace(base, max_sim_gpus=0)
    scaled = dataclasses.replace(base, max_sim_gpus=int(gpus / 1.48) // 8 * 8)  # as 3,032 → 2,048
    variants = [("sampled days", sampled), ("+ bundled", bundled), ("+ scaled pool", scaled)]
    print(
        f"coarse model vs full month: {gpus} GPUs, {seeds} seeds, policy "
        f"{base.order}/{base.backfill}/{base.placement}; sample {base.sample_days} d + "
        f"{base.warmup_days} d warm-up; bundles < {base.aggregate_below_gpu_hours} GPU-h "
        f"into {base.bundle_gpu_hours} GPU-h; scaled pool {scaled.max_sim_gpus} GPUs"
    )
    header = (
        f"{'load':>5} {'variant':<14} {'util':>6} {'Δutil':>7} {'wait50 h':>9} "
        f"{'Δwait50':>8} {'wait90 h':>9} {'Δwait90':>8} {'unmet/offer':>11} "
        f"{'Δunmet':>7} {'sims/s':>7} {'speed-up':>8} {'flag ok':>7}"
    )
    print(header)
    print("-" * len(header))
    worst = {name: 0.0 for name, _ in variants}
    for load in loads:
        demand = load * gpus * 24 * 30
        t = time.perf_counter()
        ref = [
            simulate_month(
                full, model, seed=s, month=0, month_days=30, gpus=gpus, demand_gpu_hours=demand
            )
            for s in range(seeds)
        ]
        t_full = (time.perf_counter() - t) / seeds
        r_util = float(np.mean([o.utilisation for o in ref]))
        r_w50 = float(np.mean([o.wait_p50_h for o in ref]))
        r_w90 = float(np.mean([o.wait_p90_h for o in ref]))
        r_un = float(np.mean([o.unmet_gpu_hours / o.offered_gpu_hours for o in ref]))
        r_flag = r_util > 0.95 or r_w50 > 24
        print(
            f"{load:>5.2f} {'full month':<14} {r_util:>6.3f} {'':>7} {r_w50:>9.2f} {'':>8} "
            f"{r_w90:>9.2f} {'':>8} {r_un:>11.3f} {'':>7} {1 / t_full:>7.2f} {'1.0':>8} "
            f"{'':>7}"
        )
        for name, variant in variants:
            t = time.perf_counter()
            got = [
                simulate_month(
                    variant,
                    model,
                    seed=s,
                    month=0,
                    month_days=30,
                    gpus=gpus,
                    demand_gpu_hours=demand,
                )
                for s in range(seeds)
            ]
            t_v = (time.perf_counter() - t) / seeds
            util = float(np.mean([o.utilisation for o in got]))
            w50 = float(np.mean([o.wait_p50_h for o in got]))
            w90 = float(np.mean([o.wait_p90_h for o in got]))
            un = float(np.mean([o.unmet_gpu_hours / o.offered_gpu_hours for o in got]))
            flag = util > 0.95 or w50 > 24
            worst[name] = max(worst[name], abs(util - r_util))
            print(
                f"{'':>5} {name:<14} {util:>6.3f} {util - r_util:>+7.3f} {w50:>9.2f} "
                f"{w50 - r_w50:>+8.2f} {w90:>9.2f} {w90 - r_w90:>+8.2f} {un:>11.3f} "
                f"{un - r_un:>+7.3f} {1 / t_v:>7.2f} {t_full / t_v:>8.1f} "
                f"{'yes' if flag == r_flag else 'NO':>7}"
            )
    print("largest |Δ utilisation|: " + ", ".join(f"{k} {v:.3f}" for k, v in worst.items()))


def plan(seeds: int, workers: int | None, save: str | None = None) -> None:
    scenario = load_scenario(SCENARIO)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(phase: str, done: int, total: int) -> None:
        phases.setdefault(phase, time.perf_counter() - t0)

    cpu0 = _cpu()
    own0 = _cpu(children=False)
    with LocalRunner(workers) as runner:
        result = plan_capacity(
            scenario, seeds=seeds, runner=runner, traces_dir=str(TRACES), progress=progress
        )
    wall = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    own = _cpu(children=False) - own0
    data = result.to_dict()
    starts = sorted([("fit", 0.0), *phases.items()], key=lambda kv: kv[1])
    print(
        f"capacity plan of {SCENARIO.name}: {scenario.months} months, {seeds} seeds, "
        f"{runner.workers} workers"
    )
    print(f"{'phase':<10} {'from s':>8} {'to s':>8} {'wall s':>8}")
    for i, (name, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else wall
        print(f"{name:<10} {start:>8.1f} {end:>8.1f} {end - start:>8.1f}")
    print(f"{'total':<10} {'':>8} {'':>8} {wall:>8.1f}   (issue #14: ≤ 60 s on 2 cores)")
    print(
        f"CPU seconds (this process and its workers): {cpu:.1f} (this process {own:.1f}); on a "
        "shared machine the wall time includes other processes' share of the cores"
    )
    probes = len(data["recommendation"]["probes"]) if data["recommendation"] else 0
    print(f"search probes: {probes}")
    print(data["answer"])
    if save:
        data.pop("wall_s")
        Path(save).write_text(json.dumps(data, indent=1, sort_keys=True))
        print(f"plan saved to {save} (compare two runs' months and probes with diff)")


def flows(seeds: int) -> None:
    """The five flows alone (no simulation): draws of the seed scenario's 60 months, and a
    backtest's cost on the histories a centre has (its fit and draws, the database aside)."""
    from datetime import date

    from computeport.capacity.backtest import run_backtest
    from computeport.capacity.calendar import horizon
    from computeport.capacity.demand import demand_series
    from computeport.capacity.flow_inputs import flow_params
    from computeport.capacity.history import HistAward, SchemeHistory

    scenario = load_scenario(SCENARIO)
    months = horizon(scenario.start, scenario.months)
    t0 = time.perf_counter()
    for s in range(seeds):
        demand_series(scenario, months, s)
    draw = time.perf_counter() - t0
    print(f"flows of {SCENARIO.name}: {seeds} seeds x {len(months)} months in {draw:.2f} s")
    assert scenario.demand.flows is not None
    prior = flow_params(scenario, scenario.demand.flows, 0.0)
    for years in (1, 3):
        hist_months = horizon(date(2024, 1, 1), 12 * years)
        awards = [
            HistAward(f"a{i}", f"o{i}", 2e6, date(2024, 1, 1), date(2024 + years, 1, 1),
                      {m.label: 2e6 / len(hist_months) for m in hist_months})
            for i in range(40)
        ]  # fmt: skip
        history = SchemeHistory(hist_months, {m.label: 1e8 for m in hist_months}, awards, [])
        t0 = time.perf_counter()
        result = run_backtest(history, prior, seeds=seeds)
        print(
            f"backtest of {years} year(s), 40 awards: {len(result.as_of)} months x {seeds} seeds "
            f"in {time.perf_counter() - t0:.2f} s"
        )


def _cpu(children: bool = True) -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = me.ru_utime + me.ru_stime
    return own + kids.ru_utime + kids.ru_stime if children else own


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["error", "plan", "flows"])
    parser.add_argument("--gpus", type=int, default=512)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--loads", default="0.8,0.9,1.0,1.1")
    parser.add_argument("--save", default=None, help="plan: write the plan's JSON here")
    args = parser.parse_args(argv)
    if args.what == "error":
        error(args.gpus, args.seeds or 3, [float(x) for x in args.loads.split(",")])
    elif args.what == "flows":
        flows(args.seeds or 200)
    else:
        plan(args.seeds or 20, args.workers, args.save)


if __name__ == "__main__":
    main(sys.argv[1:])
