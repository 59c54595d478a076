"""A saved capacity plan and backtest shaped like the CLI's ``--out`` files, for page tests."""

from __future__ import annotations

from typing import Any

__all__ = ["RATE_SOURCES", "sample_backtest", "sample_plan"]

RATE_SOURCES: list[dict[str, Any]] = [
    {
        "name": "approval rate (enterprise)",
        "value": "56%",
        "fitted": True,
        "why": "16 decisions",
    },
    {
        "name": "renewal share",
        "value": "30%",
        "fitted": False,
        "why": "2 ended awards (< 3): the scenario's assumption",
    },
]
"""Two rates of a ``capacity plan --db``: one measured, one kept as the assumption."""


def sample_backtest() -> dict[str, Any]:
    """A backtest file (``capacity backtest --out``) with one horizon scored."""
    return {
        "as_of": ["2026-03", "2026-04"],
        "seeds": 50,
        "coverage": 0.8,
        "scores": [
            {
                "horizon": 3,
                "cases": 2,
                "demand_error": 0.0734,
                "utilisation_error_points": 2.5,
                "coverage": 0.5,
            }
        ],
    }


def sample_plan(months: int = 4, broken_at: int | None = 2) -> dict[str, object]:
    """A small plan dict shaped like ``CapacityPlan.to_dict()``."""

    def band(p50: float) -> dict[str, float]:
        return {"p10": p50 * 0.8, "p50": p50, "p90": p50 * 1.2}

    rows = [
        {
            "index": i,
            "label": f"2025-{i + 1:02d}",
            "gpus": 1_300,
            "pflops": 1286.4,
            "supply_gpu_hours": 900_000.0,
            "demand_gpu_hours": band(700_000.0 + 100_000.0 * i),
            "committed_gpu_hours": 500_000.0,
            "utilisation": band(0.7 + 0.05 * i),
            "wait_p50_h": band(1.0 + i),
            "wait_p90_h": band(4.0 + i),
            "unmet_gpu_hours": band(0.0),
            "broken": broken_at is not None and i >= broken_at,
            "reasons": ["median wait over 2 h"] if broken_at is not None and i >= broken_at else [],
        }
        for i in range(months)
    ]
    return {
        "scenario": "tiny",
        "start": "2025-01-01",
        "seeds": 3,
        "targets": {"max_utilisation": 0.9, "max_median_wait_hours": 2.0},
        "answer": "Capacity runs out in 2025-03: median wait over 2 h. Add 512 H800 GPUs "
        "(507 PF) at Sandy Ridge by 2025-02-01.",
        "supply_steps": [],
        "assumptions": [{"what": "Demand grows 4% a month", "why": "the 2025 trend"}],
        "months": rows,
        "first_broken": None
        if broken_at is None
        else {"label": f"2025-{broken_at + 1:02d}", "reasons": ["median wait over 2 h"]},
        "recommendation": {
            "steps": [
                {
                    "site": "Sandy Ridge",
                    "accelerator": "H800",
                    "date": "2025-02-01",
                    "gpus": 512,
                    "pflops": 506.6,
                }
            ],
            "unresolved": None,
            "probes": [],
            "verified": None,
        },
        "wall_s": 12.5,
    }
