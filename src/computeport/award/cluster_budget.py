"""The arithmetic of an award's budget across clusters (pure; property-tested).

Two rules, both keeping the sum of what all clusters may spend within the award:

* :func:`placed_hours` — what each cluster's share of one award line is worth *now*: hours a
  tranche has not released yet are withheld, first from the unplaced reserve, then from the
  clusters' shares in name order, so ``Σ placed ≤ released`` whatever the split;
* :func:`limit_targets` — shrink-first: the limit each cluster is set to next, given what it
  wants (its share) and what each cluster may still act on (its last confirmed limit, or the
  larger of old and new while a change is in flight).  A shrink is always applied; a raise
  only as far as ``Σ max(held, wanted) ≤ total`` allows, so hours moved from A to B reach B
  only after A has confirmed that it gave them up — and a cluster that cannot be reached
  keeps its hours frozen (not lost, not given away twice) until it answers.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["limit_targets", "placed_hours"]


def placed_hours(
    gpu_hours: int, released: int, reserve: int, shares: Mapping[str, int]
) -> dict[str, int]:
    """Each cluster's share of one line, less the hours not yet released (reserve first)."""
    withheld = max(0, gpu_hours - max(0, released))
    withheld -= min(withheld, max(0, reserve))
    out: dict[str, int] = {}
    for name in sorted(shares):
        share = max(0, shares[name])
        taken = min(withheld, share)
        withheld -= taken
        out[name] = share - taken
    return out


def limit_targets(
    wanted: Mapping[str, int],
    held: Mapping[str, int],
    total: int,
    used: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """The next limit of every cluster in ``wanted`` (one award, GPU-minutes).

    ``held[c]`` is the limit cluster ``c`` may act on now (absent: nothing); ``used[c]`` what
    it has already spent (a limit lowered below its use does not give the use back, so a
    cluster counts at the larger of the two).  The result never exceeds ``wanted[c]``, never
    goes below ``min(held[c], wanted[c])`` and keeps ``Σ max(held, used, result) ≤
    max(total, Σ max(held, used))``: a raise waits for the shrinks elsewhere.  Clusters are
    raised in name order, so the answer is deterministic.
    """
    spent = used or {}
    names = sorted(set(wanted) | set(held) | set(spent))
    # What each cluster may act on if nothing is raised: a shrink counts at the old (larger)
    # limit until confirmed, and never below what the cluster has spent.
    after = {c: max(held.get(c, 0), spent.get(c, 0)) for c in names}
    out: dict[str, int] = {}
    for c in sorted(wanted):
        have = held.get(c, 0)
        want = max(0, wanted[c])
        if want <= have:
            out[c] = want  # a shrink (or no change): always safe to ask for
            continue
        room = total - sum(v for k, v in after.items() if k != c)
        target = max(have, min(want, room))
        out[c] = target
        after[c] = max(target, spent.get(c, 0))
    return out
