"""The saved capacity plan the capacity page shows.

A plan simulates every month of the horizon over many seeds and takes minutes, so the portal
never computes one in a request: ``computeport capacity plan … --out PATH`` (or ``computeport
demo`` in the background) writes the plan's JSON, and the page reads whatever is there.
The path sits next to a SQLite database (``var/demo/computeport.sqlite3`` →
``var/demo/capacity/plan.json``) or under ``var/capacity/`` for other databases; an app can
point elsewhere with ``app.state.capacity_plan_path``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from computeport.settings import Settings

PLAN_FILE = Path("capacity") / "plan.json"
SCENARIO = Path("scenarios") / "cyberport.toml"


def plan_path(settings: Settings) -> Path:
    """Where this deployment keeps its saved plan (beside a SQLite file, else ``var/``)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).parent / PLAN_FILE
    return Path("var") / PLAN_FILE


def plan_command(path: Path) -> str:
    """The command that writes the plan the page reads."""
    return f"computeport capacity plan {SCENARIO.as_posix()} --out {path.as_posix()}"


@dataclass(frozen=True)
class SavedPlan:
    """A plan read from disk, ready for the template: the answer, charts and the details."""

    answer: str
    scenario: str
    seeds: int
    start: str
    months: int
    first_broken: str | None
    reasons: list[str]
    figures: dict[str, dict[str, Any]]
    recommendation: list[dict[str, Any]]
    unresolved: str | None
    searched: bool
    assumptions: list[dict[str, Any]]
    supply_steps: list[dict[str, Any]]
    wall_s: float | None
    rate_sources: list[dict[str, Any]] = field(default_factory=list)
    """The flow rates a ``--db`` plan measured (or kept as assumptions), each with its source."""


class PlanUnreadable(Exception):
    """The plan file exists but is not a plan (half-written, or from another version)."""


def load_plan(path: Path) -> SavedPlan | None:
    """The plan at ``path``, or ``None`` when none has been written yet.

    Raises:
        PlanUnreadable: the file is not JSON or lacks the fields the page shows.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        return saved_plan(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise PlanUnreadable(f"{path}: {exc}") from exc


def saved_plan(data: dict[str, Any]) -> SavedPlan:
    """The page's view of a plan dict (``CapacityPlan.to_dict()``)."""
    # The planner imports numpy; only a page that shows a plan pays for it.
    from computeport.capacity.service import plotly_figures

    broken = data["first_broken"]
    rec = data.get("recommendation")
    return SavedPlan(
        answer=str(data["answer"]),
        scenario=str(data["scenario"]),
        seeds=int(data["seeds"]),
        start=str(data["start"]),
        months=len(data["months"]),
        first_broken=None if broken is None else str(broken["label"]),
        reasons=[] if broken is None else [str(r) for r in broken["reasons"]],
        figures=plotly_figures(data),
        recommendation=[] if rec is None else list(rec["steps"]),
        unresolved=None if rec is None else rec.get("unresolved"),
        searched=rec is not None,
        assumptions=list(data.get("assumptions", [])),
        supply_steps=list(data.get("supply_steps", [])),
        wall_s=data.get("wall_s"),
        rate_sources=[dict(r) for r in data.get("rate_sources", [])],
    )
