"""The policy as configured today, from a TOML file (the baseline of a study).

    order = "fifo"            # fifo | sjf | multifactor
    backfill = "easy"         # none | easy | conservative
    placement = "node"        # node | pool
    estimates = "limit"       # limit | exact

    [weights]                 # multifactor (Slurm's PriorityWeight*)
    age = 1000
    fairshare = 10000
    qos = 2000
    job_size = 1000
    max_age_days = 7
    half_life_days = 7
    recalc_interval_s = 300

    [qos]                     # QOS factors 0..1
    subsidised = 1.0
    paid = 0.5
    scavenger = 0.0

A key the file does not know is an error naming its line (a typo must not silently leave the
default in place).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any

from computeport.kit.errors import ValidationFailed
from computeport.scheduling import Backfill, Estimates, Placement, PolicyConfig, Qos

__all__ = ["parse_policy"]

_TOP = {"order", "backfill", "placement", "estimates", "weights", "qos"}
_WEIGHTS = {
    "age", "fairshare", "qos", "job_size", "max_age_days", "half_life_days", "recalc_interval_s",
}  # fmt: skip
_DAY_S = 86400


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().split("=")[0].strip().strip('"') == key:
            return number
    return 0


def _bad(text: str, name: str, key: str, why: str) -> ValidationFailed:
    line = _line_of(text, key)
    where = f"{name} line {line}" if line else name
    return ValidationFailed(f"{where}: {why}", field="policy")


def _choice(text: str, name: str, data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data[key]
    if value not in allowed:
        raise _bad(text, name, key, f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def parse_policy(text: str, name: str = "policy file") -> PolicyConfig:
    """A :class:`PolicyConfig` from the file's text; errors name the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{name}: {exc}", field="policy") from None
    for key in data:
        if key not in _TOP:
            raise _bad(text, name, key, f"unknown key {key!r}")
    policy = PolicyConfig()
    if "order" in data:
        policy = replace(
            policy, order=_choice(text, name, data, "order", ("fifo", "sjf", "multifactor"))
        )
    if "backfill" in data:
        value = _choice(text, name, data, "backfill", tuple(b.value for b in Backfill))
        policy = replace(policy, backfill=Backfill(value))
    if "placement" in data:
        value = _choice(text, name, data, "placement", ("node", "pool"))
        policy = replace(policy, placement=Placement(value))
    if "estimates" in data:
        value = _choice(text, name, data, "estimates", ("limit", "exact"))
        policy = replace(policy, estimates=Estimates(value))
    weights = policy.weights
    table = data.get("weights", {})
    if not isinstance(table, dict):
        raise _bad(text, name, "weights", "weights must be a table")
    for key, value in table.items():
        if key not in _WEIGHTS:
            raise _bad(text, name, key, f"unknown key {key!r} in the weights table")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise _bad(text, name, key, f"{key} must be a number ≥ 0")
        if key.endswith("_days"):
            seconds = max(1, round(value * _DAY_S))
            field = "max_age_s" if key == "max_age_days" else "half_life_s"
            weights = replace(weights, **{field: seconds})  # type: ignore[arg-type]
        else:
            weights = replace(weights, **{key: int(value)})  # type: ignore[arg-type]
    qos = data.get("qos", {})
    if not isinstance(qos, dict):
        raise _bad(text, name, "qos", "qos must be a table")
    factors = dict(weights.qos_factors)
    for key, value in qos.items():
        if key not in {q.value for q in Qos}:
            raise _bad(text, name, key, f"unknown QOS {key!r} in the qos table")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise _bad(text, name, key, f"{key} must be between 0 and 1")
        factors[Qos(key)] = float(value)
    return replace(policy, weights=replace(weights, qos_factors=tuple(factors.items())))
