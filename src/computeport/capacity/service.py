"""The capacity service: one call from a scenario to a plan (CLI, portal and benchmark alike).

    from computeport.capacity import load_scenario, plan_capacity, plotly_figures
    plan = plan_capacity(load_scenario("scenarios/cyberport.toml"), traces_dir=...)
    data = plan.to_dict()             # JSON-able: months with bands, first broken month, steps
    figures = plotly_figures(data)    # {"supply_demand": fig, "utilisation": fig, "wait": fig}

``plotly_figures`` works on the dict (e.g. a saved ``plan.json``), so a page can show a plan
without re-simulating it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from computeport.capacity.demand import AwardDemand
from computeport.capacity.evaluate import MonthPlan, PlanEvaluation, evaluate_plan, job_model_for
from computeport.capacity.fanout import LocalRunner, Runner
from computeport.capacity.flow_charts import city_trace, flows_figure
from computeport.capacity.flows import copay_share
from computeport.capacity.recommend import BuildPlan, recommend_build
from computeport.capacity.scenario import Scenario
from computeport.capacity.summary import city_line, flow_sentences
from computeport.capacity.supply import SupplyPlan, supply_plan

__all__ = ["CapacityPlan", "Progress", "default_traces_dir", "plan_capacity", "plotly_figures"]

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is ``plan``, ``search`` or ``verify``."""


def default_traces_dir() -> str | None:
    """``../shared/traces`` beside the repository, if it exists (the project's data folder)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / ".." / "shared" / "traces"
        if candidate.is_dir():
            return str(candidate.resolve())
    return None


@dataclass(frozen=True, slots=True)
class CapacityPlan:
    """A scenario's plan: the evaluation, the recommended build and, if run, its check."""

    scenario: Scenario
    supply: SupplyPlan
    evaluation: PlanEvaluation
    build: BuildPlan | None
    verified: PlanEvaluation | None
    wall_s: float

    def answer(self) -> str:
        """The plan in two sentences: when capacity runs out, and what to build by when."""
        first = self.evaluation.first_broken
        if first is None:
            out = f"The targets hold over the whole horizon ({self.evaluation.seeds} seeds)."
        else:
            out = f"Capacity runs out in {first.label}: {'; '.join(first.reasons)}."
        if self.build is not None and self.build.steps:
            parts = [
                f"{s.gpus:,} {s.accelerator} GPUs "
                f"({s.gpus * self.supply.accelerators[s.accelerator].pflops_per_gpu:,.0f} PF) "
                f"at {s.site} by {s.date.isoformat()}"
                for s in self.build.steps
            ]
            out += " Add " + ", then ".join(parts) + "."
        if self.build is not None and self.build.unresolved:
            out += f" ({self.build.unresolved}.)"
        flows = flow_sentences(
            self.evaluation.months,
            first,
            self.evaluation.exhausted,
            self._final_pflops(),
            self._city(),
            self._copay(),
        )
        return f"{out} {flows}" if flows else out

    def _copay_share(self) -> float | None:
        copay = self._copay()
        return None if copay is None else round(copay[1], 4)

    def _copay(self) -> tuple[float, float] | None:
        f = self.scenario.demand.flows
        if f is None:
            return None
        return f.copay_elasticity, copay_share(f.subsidy_rate, f.copay_elasticity)

    def _final_pflops(self) -> float:
        """PFLOPS in the horizon's last month, with the recommended build where there is one."""
        ev = self.verified if self.verified is not None else self.evaluation
        return ev.months[-1].pflops if ev.months else 0.0

    def _city(self) -> dict[str, Any] | None:
        t = self.scenario.targets
        ref = self.scenario.accelerator(self.scenario.reference_accelerator)
        return city_line(t.city_pflops, t.city_by, ref.pflops_per_gpu)

    def to_dict(self) -> dict[str, Any]:
        s = self.scenario
        accs = self.supply.accelerators
        return {
            "scenario": s.name,
            "description": s.description,
            "start": s.start.isoformat(),
            "months_in_horizon": s.months,
            "seeds": self.evaluation.seeds,
            "targets": s.targets.model_dump(mode="json"),
            "policy": s.policy.model_dump(),
            "evaluation": s.evaluation.model_dump(),
            "reference_accelerator": s.reference_accelerator,
            "answer": self.answer(),
            "supply_steps": [
                {
                    "site": st.site,
                    "accelerator": st.accelerator,
                    "date": st.date.isoformat(),
                    "gpus": st.gpus,
                    "pflops": round(st.gpus * accs[st.accelerator].pflops_per_gpu, 1),
                    "assumption": st.assumption,
                    "note": st.note,
                }
                for st in self.supply.levels
            ],
            "assumptions": [a.model_dump() for a in s.assumptions],
            "months": _months(self.evaluation.months),
            "first_broken": _broken(self.evaluation),
            "envelope_exhausted": None
            if self.evaluation.exhausted is None
            else self.evaluation.exhausted.label,
            "city_target": self._city(),
            "flows": None
            if s.demand.flows is None
            else s.demand.flows.model_dump(mode="json") | {"copay_share": self._copay_share()},
            "recommendation": None
            if self.build is None
            else {
                "steps": [
                    {
                        "site": st.site,
                        "accelerator": st.accelerator,
                        "date": st.date.isoformat(),
                        "gpus": st.gpus,
                        "pflops": round(st.gpus * accs[st.accelerator].pflops_per_gpu, 1),
                    }
                    for st in self.build.steps
                ],
                "unresolved": self.build.unresolved,
                "probes": [asdict(p) for p in self.build.probes],
                "verified": None
                if self.verified is None
                else {
                    "seeds": self.verified.seeds,
                    "months": _months(self.verified.months),
                    "first_broken": _broken(self.verified),
                },
            },
            "wall_s": round(self.wall_s, 2),
        }


def _months(months: Sequence[MonthPlan]) -> list[dict[str, Any]]:
    return [asdict(m) | {"reasons": list(m.reasons)} for m in months]


def _broken(ev: PlanEvaluation) -> dict[str, Any] | None:
    first = ev.first_broken
    return None if first is None else {"label": first.label, "reasons": list(first.reasons)}


def plan_capacity(
    scenario: Scenario,
    *,
    seeds: int | None = None,
    runner: Runner | None = None,
    recommend: bool = True,
    verify: bool = True,
    traces_dir: str | None = None,
    awards: Sequence[AwardDemand] | None = None,
    progress: Progress | None = None,
) -> CapacityPlan:
    """Evaluate a scenario, search the build that keeps its targets, and check that build.

    Args:
        seeds: seeds for the bands (default: the scenario's ``evaluation.seeds``).
        runner: how runs fan out (default: a process pool over every core).
        recommend: run the build search (the scenario needs a ``[recommend]`` section).
        verify: re-evaluate every month with the recommended steps (``search_seeds`` seeds).
        traces_dir: where a relative trace path is looked up (default: ``../shared/traces``).
        awards: committed demand from elsewhere (the database) instead of the scenario's.
        progress: ``progress(phase, done, total)``.
    """
    t0 = time.perf_counter()
    if runner is None:
        with LocalRunner() as own:
            return plan_capacity(
                scenario,
                seeds=seeds,
                runner=own,
                recommend=recommend,
                verify=verify,
                traces_dir=traces_dir,
                awards=awards,
                progress=progress,
            )
    model = job_model_for(scenario, traces_dir or default_traces_dir())
    supply = supply_plan(scenario)

    def tick(phase: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(phase, done, total)

    evaluation = evaluate_plan(
        scenario, supply, model, seeds=seeds, runner=runner, awards=awards, progress=tick("plan")
    )
    build: BuildPlan | None = None
    verified: PlanEvaluation | None = None
    if recommend and scenario.recommend is not None and scenario.recommend.enabled:
        probes = [0]

        def on_probe(_: object) -> None:
            probes[0] += 1
            if progress is not None:
                progress("search", probes[0], 0)

        build = recommend_build(
            scenario, supply, model, evaluation, runner=runner, awards=awards, on_probe=on_probe
        )
        if verify and build.steps:
            verified = evaluate_plan(
                scenario,
                supply.with_added(build.steps),
                model,
                seeds=scenario.recommend.search_seeds,
                runner=runner,
                awards=awards,
                progress=tick("verify"),
            )
    return CapacityPlan(scenario, supply, evaluation, build, verified, time.perf_counter() - t0)


# -- plotly-ready series -------------------------------------------------------------------


def _band_traces(
    x: list[str], months: list[dict[str, Any]], key: str, name: str, colour: str, scale: float
) -> list[dict[str, Any]]:
    p10 = [m[key]["p10"] * scale for m in months]
    p50 = [m[key]["p50"] * scale for m in months]
    p90 = [m[key]["p90"] * scale for m in months]
    return [
        {
            "type": "scatter",
            "x": x,
            "y": p90,
            "mode": "lines",
            "line": {"width": 0},
            "name": f"{name} p90",
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": p10,
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": colour.replace("rgb", "rgba").replace(")", ",0.2)"),
            "name": f"{name} p10–p90",
        },
        {
            "type": "scatter",
            "x": x,
            "y": p50,
            "mode": "lines",
            "line": {"color": colour},
            "name": f"{name} p50",
        },
    ]


def _marker(label: str | None, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if label is None:
        return [], []
    shape = {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": label,
        "x1": label,
        "y0": 0,
        "y1": 1,
        "line": {"color": "rgb(200,0,0)", "dash": "dash"},
    }
    note = {
        "x": label,
        "y": 1,
        "xref": "x",
        "yref": "paper",
        "text": text,
        "showarrow": False,
        "yanchor": "bottom",
    }
    return [shape], [note]


def plotly_figures(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plotly figure dicts (``{"data": …, "layout": …}``) from a plan's :meth:`to_dict`."""
    months = plan["months"]
    x = [m["label"] for m in months]
    broken = plan["first_broken"]
    shapes, notes = _marker(broken["label"] if broken else None, "first broken month")
    targets = plan["targets"]
    supply = {
        "type": "scatter",
        "x": x,
        "y": [m["supply_gpu_hours"] for m in months],
        "mode": "lines",
        "line": {"shape": "hv", "color": "rgb(0,0,0)"},
        "name": "supply",
    }
    committed = {
        "type": "scatter",
        "x": x,
        "y": [m["committed_gpu_hours"] for m in months],
        "mode": "lines",
        "line": {"dash": "dot"},
        "name": "committed (awards)",
    }
    figures: dict[str, dict[str, Any]] = {
        "supply_demand": {
            "data": [
                supply,
                committed,
                *_band_traces(x, months, "demand_gpu_hours", "demand", "rgb(31,119,180)", 1.0),
            ],
            "layout": {
                "title": "Supply and demand (reference GPU-hours a month)",
                "shapes": shapes,
                "annotations": notes,
            },
        },
        "utilisation": {
            "data": _band_traces(x, months, "utilisation", "utilisation", "rgb(44,160,44)", 100),
            "layout": {
                "title": "Utilisation (%)",
                "yaxis": {"range": [0, 100]},
                "shapes": [*shapes, _hline(targets["max_utilisation"] * 100)],
                "annotations": notes,
            },
        },
        "wait": {
            "data": _band_traces(x, months, "wait_p50_h", "median wait", "rgb(214,39,40)", 1.0),
            "layout": {
                "title": "Median wait (hours)",
                "shapes": [*shapes, _hline(targets["max_median_wait_hours"])],
                "annotations": notes,
            },
        },
    }
    flows = flows_figure(plan)
    if flows is not None:
        figures["flows"] = flows
    city = city_trace(plan)
    if city is not None:
        figures["supply_demand"]["data"].append(city)
    rec = plan.get("recommendation")
    if rec and rec.get("verified"):
        after = rec["verified"]["months"]
        figures["utilisation"]["data"].append(
            {
                "type": "scatter",
                "x": x,
                "y": [m["utilisation"]["p50"] * 100 for m in after],
                "mode": "lines",
                "line": {"dash": "dash"},
                "name": "with recommended steps p50",
            }
        )
        figures["wait"]["data"].append(
            {
                "type": "scatter",
                "x": x,
                "y": [m["wait_p50_h"]["p50"] for m in after],
                "mode": "lines",
                "line": {"dash": "dash"},
                "name": "with recommended steps p50",
            }
        )
        figures["supply_demand"]["data"].append(
            {
                "type": "scatter",
                "x": x,
                "y": [m["supply_gpu_hours"] for m in after],
                "mode": "lines",
                "line": {"shape": "hv", "dash": "dash"},
                "name": "supply with recommended steps",
            }
        )
    return figures


def _hline(y: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": "rgb(120,120,120)", "dash": "dot"},
    }
