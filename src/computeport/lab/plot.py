"""A study as a picture (matplotlib, Agg): mean and p95 wait per category, scenario by scenario.

Grouped bars — one group per category, one bar per scenario — because the committee's question
is always "who waits longer under this change", read across one category.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from computeport.lab.study import Study

__all__ = ["plot_study"]

HOUR_S = 3600


def plot_study(study: Study, path: Path | str) -> Path:
    """Write the chart to ``path`` (PNG) and return it."""
    categories = sorted({g.group for o in study.outcomes for g in o.by_category} | {"all"})
    fig, (ax_mean, ax_p95) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    width = 0.8 / max(1, len(study.outcomes))
    for i, outcome in enumerate(study.outcomes):
        stats = {g.group: g for g in outcome.by_category} | {"all": outcome.overall}
        xs = [c + (i - (len(study.outcomes) - 1) / 2) * width for c in range(len(categories))]
        means = [stats[c].wait_mean_s / HOUR_S if c in stats else 0 for c in categories]
        p95s = [stats[c].wait_p95_s / HOUR_S if c in stats else 0 for c in categories]
        label = f"{outcome.name} (utilisation {outcome.utilisation:.0%})"
        ax_mean.bar(xs, means, width, label=label)
        ax_p95.bar(xs, p95s, width, label=label)
    ax_mean.set_ylabel("mean wait (hours)")
    ax_p95.set_ylabel("p95 wait (hours)")
    ax_p95.set_xticks(range(len(categories)), categories)
    ax_mean.legend(fontsize=8)
    ax_mean.set_title(f"Policy lab: {study.jobs_in_window} jobs of the window, replayed")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
