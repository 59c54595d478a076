"""The latest backtest the capacity page shows beside the plan.

``computeport capacity backtest … --out PATH`` writes it (whole, via a ``.partial`` file);
it sits next to the saved plan (``…/capacity/backtest.json``), so the page says how well the
same flows forecast the past before a reader trusts their forecast of the future.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SavedBacktest", "backtest_command", "backtest_path", "load_backtest"]


def backtest_path(plan: Path) -> Path:
    """Where the backtest of the plan at ``plan`` is kept."""
    return plan.with_name("backtest.json")


def backtest_command(path: Path) -> str:
    return (
        "computeport capacity backtest scenarios/cyberport.toml --history-days 365 "
        f"--out {path.as_posix()}"
    )


@dataclass(frozen=True)
class SavedBacktest:
    """Per horizon: cases, p50 demand error, utilisation error (points), band coverage."""

    as_of: list[str]
    seeds: int
    coverage: float
    scores: list[dict[str, Any]]


def load_backtest(path: Path) -> SavedBacktest | None:
    """The backtest at ``path``; ``None`` when there is none or it is not one (the page then
    shows the command that makes it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SavedBacktest(
            as_of=[str(x) for x in data["as_of"]],
            seeds=int(data["seeds"]),
            coverage=float(data["coverage"]),
            scores=[dict(s) for s in data["scores"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
