"""Proposed policy changes, parsed from ``--change`` texts, applied to a :class:`Variant`.

A change text is ``key=value`` pairs joined by commas (``reserve=government:10,backfill=none``);
each ``--change`` is one scenario, replayed beside the baseline. Keys:

=====================  ==========================================================================
``nodes``              ``+N``/``-N`` nodes in the first partition, or ``N`` nodes
``backfill``           ``none`` or ``easy``
``order``              ``fifo``, ``sjf`` or ``multifactor``
``half_life_days``     fair-share half-life (multifactor)
``weight_<factor>``    multifactor weight: ``age``, ``fairshare``, ``qos``, ``job_size``
``qos_<tier>``         QOS factor 0..1 of ``subsidised``, ``paid``, ``scavenger``
``reserve``            ``CATEGORY:PERCENT``: that share of the first partition's nodes (rounded
                       up to whole nodes) is held for the category's accounts through the replay
``gpu_cap``            ``ORG:GPUS``: GPUs each of the organisation's accounts may hold at once
                       (Slurm's ``GrpTRES=gres/gpu`` per association; an organisation-wide cap
                       needs a parent association, which the core does not model yet)
``add``                ``REFERENCE`` of a pending application (``AISS-2026-0042``): approved as
                       asked (see :class:`Added`); or ``NAME:GPUS``: a made-up one keeping
                       ``GPUS`` GPUs busy with one day-long job a day. Either is an account of
                       category ``pending`` from the window's start
=====================  ==========================================================================

Bad input raises :class:`ValidationFailed` naming ``--change`` and the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from computeport.kit.errors import ValidationFailed
from computeport.scheduling import (
    Backfill,
    ClusterSpec,
    Job,
    MultifactorWeights,
    PolicyConfig,
    Qos,
)

__all__ = ["PENDING_CATEGORY", "Added", "Variant", "parse_change"]

PENDING_CATEGORY = "pending"
DAY_S = 86400
_WEIGHTS = ("age", "fairshare", "qos", "job_size")


@dataclass(frozen=True, slots=True)
class Added:
    """A pending application replayed as if approved: from the window's start, one job of
    ``gpus`` GPUs a day running ``run_s`` seconds — the awarded GPU-hours spread evenly over
    the award's months in jobs of the requested size (the capacity model's reading of an award:
    it is used, steadily)."""

    name: str
    gpus: int
    run_s: int = 86400
    org: str = ""


@dataclass(frozen=True, slots=True)
class Variant:
    """One replay's cluster and policy, plus what it adds on top of the history."""

    name: str
    cluster: ClusterSpec
    policy: PolicyConfig
    reserve: tuple[tuple[str, int], ...] = ()
    """(category, percent of the first partition's nodes)."""
    gpu_caps: tuple[tuple[str, int], ...] = ()
    """(organisation, GPUs)."""
    added: tuple[Added, ...] = field(default_factory=tuple)

    def added_jobs(self, from_s: int, to_s: int) -> list[Job]:
        """The approved applications' jobs: one day-long job a day through the window."""
        out: list[Job] = []
        for a in self.added:
            for day, t in enumerate(range(from_s, to_s, DAY_S)):
                out.append(
                    Job(
                        f"{a.name}-{day}",
                        t,
                        a.gpus,
                        DAY_S,
                        DAY_S,
                        project=a.name,
                        qos=Qos.SUBSIDISED,
                    )
                )
        return out


def _bad(key: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"--change {key}: {why}", field="change")


def _int(key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _bad(key, f"{text!r} is not a whole number") from None


def _float(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(key, f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise _bad(key, f"{text!r} must be a finite number ≥ 0")
    return value


def _pair(key: str, text: str) -> tuple[str, int]:
    name, sep, amount = text.rpartition(":")
    if not sep or not name:
        raise _bad(key, f"expected NAME:NUMBER, not {text!r}")
    return name, _int(key, amount)


def parse_change(
    text: str,
    base: Variant,
    *,
    categories: set[str],
    orgs: set[str],
    largest_job_gpus: int,
    applications: Mapping[str, Added] | None = None,
) -> Variant:
    """The scenario ``text`` makes of ``base`` (validated against the history's names)."""
    if not text.strip():
        raise _bad("", "an empty change")
    cluster, policy = base.cluster, base.policy
    weights = policy.weights
    reserve: list[tuple[str, int]] = list(base.reserve)
    caps: list[tuple[str, int]] = list(base.gpu_caps)
    added: list[Added] = list(base.added)
    for item in text.split(","):
        key, sep, value = item.strip().partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise _bad(key or item, "expected key=value")
        if key == "nodes":
            first = cluster.partitions[0]
            n = _int(key, value)
            count = first.node_count + n if value[0] in "+-" else n
            if count < 1:
                raise _bad(key, f"leaves {count} nodes")
            part = replace(first, node_count=count)
            cluster = replace(cluster, partitions=(part, *cluster.partitions[1:]))
            if largest_job_gpus > part.gpus:
                raise _bad(
                    key,
                    f"the cluster would have {part.gpus} GPUs, fewer than the largest job "
                    f"({largest_job_gpus})",
                )
        elif key == "backfill":
            if value not in ("none", "easy"):
                raise _bad(key, f"none or easy, not {value!r}")
            policy = replace(policy, backfill=Backfill(value))
        elif key == "order":
            if value not in ("fifo", "sjf", "multifactor"):
                raise _bad(key, f"fifo, sjf or multifactor, not {value!r}")
            policy = replace(policy, order=value)
        elif key == "half_life_days":
            days = _float(key, value)
            if days <= 0:
                raise _bad(key, "must be > 0")
            weights = replace(weights, half_life_s=max(1, round(days * DAY_S)))
        elif key.startswith("weight_") and key[7:] in _WEIGHTS:
            amount = _int(key, value)
            if amount < 0:
                raise _bad(key, "a weight is ≥ 0")
            weights = _with_weight(weights, key[7:], amount)
        elif key.startswith("qos_") and key[4:] in {q.value for q in Qos}:
            factor = _float(key, value)
            if factor > 1:
                raise _bad(key, "a QOS factor is between 0 and 1")
            tier = Qos(key[4:])
            factors = tuple((q, factor if q is tier else f) for q, f in weights.qos_factors)
            weights = replace(weights, qos_factors=factors)
        elif key == "reserve":
            category, percent = _pair(key, value)
            if category not in categories:
                raise _bad(key, f"unknown category {category!r} ({', '.join(sorted(categories))})")
            if not 0 < percent < 100:
                raise _bad(key, "the share is a percentage between 1 and 99")
            reserve.append((category, percent))
        elif key == "gpu_cap":
            org, gpus = _pair(key, value)
            if org not in orgs:
                raise _bad(key, f"unknown organisation {org!r}")
            if gpus < 0:
                raise _bad(key, "a cap is ≥ 0 GPUs")
            caps.append((org, gpus))
        elif key == "add" and ":" not in value:
            found = (applications or {}).get(value)
            if found is None:
                raise _bad(key, f"no pending application {value!r}")
            if found.gpus > cluster.partitions[0].gpus:
                raise _bad(key, f"{value} asks for {found.gpus} GPUs at once: too many")
            added.append(found)
        elif key == "add":
            name, gpus = _pair(key, value)
            if gpus < 1 or gpus > cluster.partitions[0].gpus:
                raise _bad(key, f"{gpus} GPUs do not fit the first partition")
            added.append(Added(f"pending:{name}", gpus))
        else:
            raise _bad(key, "unknown key (see `computeport lab replay --help`)")
    policy = replace(policy, weights=weights)
    if largest_job_gpus > cluster.gpus:
        raise _bad("nodes", "the cluster is smaller than the largest job")
    return Variant(text.strip(), cluster, policy, tuple(reserve), tuple(caps), tuple(added))


def _with_weight(weights: MultifactorWeights, name: str, amount: int) -> MultifactorWeights:
    if name == "age":
        return replace(weights, age=amount)
    if name == "fairshare":
        return replace(weights, fairshare=amount)
    if name == "qos":
        return replace(weights, qos=amount)
    return replace(weights, job_size=amount)
