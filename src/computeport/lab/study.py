"""A policy study: the baseline and each proposed change, replayed over one window.

This is the use case the CLI, the API and the portal call: validate the window and the changes
against the history (bad input raises before anything runs, so nothing is saved), replay, and
return one :class:`Study` that knows how to be exported (JSON, CSV) and compared.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from computeport.kit.errors import ValidationFailed
from computeport.lab.changes import PENDING_CATEGORY, Variant, parse_change
from computeport.lab.history import History, Member
from computeport.lab.replay import replay
from computeport.lab.summary import Baseline, Outcome, baseline_error, summarise
from computeport.scheduling import PolicyConfig

__all__ = ["Study", "csv_of", "run_study"]


@dataclass(frozen=True, slots=True)
class Study:
    """The answer: the window, how faithful the baseline is, and one outcome per scenario."""

    from_s: int
    to_s: int
    origin_s: int
    jobs_in_window: int
    baseline: Baseline
    outcomes: tuple[Outcome, ...]
    """The baseline first, then each change in the order given."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.origin_s + self.from_s,
            "to": self.origin_s + self.to_s,
            "jobs_in_window": self.jobs_in_window,
            "baseline_fidelity": self.baseline.to_dict(),
            "scenarios": [o.to_dict() for o in self.outcomes],
        }

    def to_csv(self) -> str:
        """One row per (scenario, grouping, group): the side-by-side table."""
        return csv_of(self.to_dict())


_COLUMNS = (
    "jobs", "never_started", "wait_mean_s", "wait_p50_s", "wait_p95_s", "slowdown_mean",
    "slowdown_p95",
)  # fmt: skip


def csv_of(data: Mapping[str, Any]) -> str:
    """The side-by-side table of a study's JSON form (saved studies are kept as JSON)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["scenario", "grouping", "group", *_COLUMNS, "utilisation"])
    for o in data["scenarios"]:
        rows = [("all", o["overall"])]
        rows += [("category", g) for g in o["by_category"]]
        rows += [("organisation", g) for g in o["by_org"]]
        for grouping, g in rows:
            out.writerow(
                [o["name"], grouping, g["group"], *(g[c] for c in _COLUMNS), o["utilisation"]]
            )
    return buf.getvalue()


def run_study(
    history: History,
    from_s: int,
    to_s: int,
    changes: Sequence[str],
    *,
    policy: PolicyConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Replay the baseline (``policy``, else the history's own) and each change over the window."""
    if to_s <= from_s:
        raise ValidationFailed("--to must be after --from", field="to")
    jobs = history.jobs()
    accounts = {j.job_id: j.account for j in jobs}
    in_window = [j for j in jobs if from_s <= j.submit_s < to_s]
    if not in_window:
        raise ValidationFailed("no jobs were submitted in the window", field="from")
    largest = max(j.gpus for j in jobs if j.submit_s < to_s)
    base = Variant("baseline", history.cluster, policy or history.policy)
    if largest > base.cluster.gpus:
        raise ValidationFailed("the cluster is smaller than the largest job", field="policy")
    categories, orgs = history.categories(), history.orgs()
    scenarios = [base] + [
        parse_change(
            c,
            base,
            categories=categories,
            orgs=orgs,
            largest_job_gpus=largest,
            applications=history.applications,
        )
        for c in changes
    ]
    # the part of the window the history covers: utilisation is measured there
    covered = (
        max(from_s, min(j.submit_s for j in jobs)),
        min(to_s, max(history.end_s, from_s + 1)),
    )
    outcomes: list[Outcome] = []
    fidelity: Baseline | None = None
    for scenario in scenarios:
        if progress is not None:
            progress(scenario.name)
        result = replay(history, scenario, from_s, to_s)
        if scenario is base:
            fidelity = baseline_error(history, result, from_s, to_s)
        members = dict(history.members)
        for a in scenario.added:
            members[a.name] = Member(a.org or a.name, PENDING_CATEGORY)
        acc = dict(accounts)
        for job in scenario.added_jobs(from_s, to_s):
            acc[job.job_id] = job.account
        outcomes.append(summarise(result, members, acc, from_s, to_s, covered))
    assert fidelity is not None
    return Study(from_s, to_s, history.origin_s, len(in_window), fidelity, tuple(outcomes))
