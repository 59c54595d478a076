"""``/metrics`` in the Prometheus text exposition format (version 0.0.4), written by hand.

prometheus_client is not a dependency, and the format is small: ``# HELP``, ``# TYPE``, then one
``name{label="value"} number`` line per sample.  :func:`render` escapes label values and help
text as the format requires and refuses names the format does not allow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

MetricType = Literal["gauge", "counter"]


@dataclass(frozen=True)
class Sample:
    """One value of a metric, with its labels."""

    value: int | Decimal
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Metric:
    """A metric family: name, help text, type and its samples."""

    name: str
    help: str
    type: MetricType
    samples: Sequence[Sample] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        for sample in self.samples:
            for label, _value in sample.labels:
                if not _LABEL.match(label) or label.startswith("__"):
                    raise ValueError(f"invalid label name {label!r} on {self.name}")


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: int | Decimal) -> str:
    if isinstance(value, bool):
        raise TypeError("a metric value is a number, not a bool")
    if isinstance(value, int):
        return str(value)
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "+Inf" if value > 0 else "-Inf"
    text = format(value.normalize(), "f")
    return text


def render(metrics: Iterable[Metric]) -> str:
    """The exposition text for ``metrics`` (each family once, in the given order)."""
    lines: list[str] = []
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            raise ValueError(f"metric {metric.name} given twice")
        seen.add(metric.name)
        lines.append(f"# HELP {metric.name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.type}")
        for sample in metric.samples:
            labels = ""
            if sample.labels:
                inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
                labels = "{" + inner + "}"
            lines.append(f"{metric.name}{labels} {_number(sample.value)}")
    return "\n".join(lines) + "\n"
