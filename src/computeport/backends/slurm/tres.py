"""Trackable resources (TRES): GPU counts out of Slurm's TRES strings and JSON lists.

A job on typed GPUs carries both ``gres/gpu=8`` and ``gres/gpu:h800=8``; the typed entry is the
truth about *which* GPUs, the untyped one the total.  computeport takes the typed entries where
there are any, else the untyped one — never their sum (DESIGN.md, usage records).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from computeport.backends.errors import BackendOutputInvalid

__all__ = ["GpuCount", "gpus_from_json", "gpus_from_string", "parse_tres_string"]

_GPU = "gres/gpu"


@dataclass(frozen=True, slots=True)
class GpuCount:
    gpus: int
    gpu_type: str | None  # None when untyped, or when several types were mixed ("mixed")


def parse_tres_string(text: str, *, field: str = "tres") -> dict[str, int]:
    """``cpu=4,mem=16000M,gres/gpu=8`` → {name: count}; memory suffixes are dropped (not needed)."""
    out: dict[str, int] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise BackendOutputInvalid(f"TRES entry {part!r} has no '='", field=field)
        digits = value.rstrip("KMGTP")
        try:
            out[name] = int(digits)
        except ValueError:
            raise BackendOutputInvalid(f"TRES {name} has value {value!r}", field=field) from None
    return out


def _pick(counts: Mapping[str, int]) -> GpuCount:
    typed = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith(_GPU + ":")}
    typed = {k: v for k, v in typed.items() if v > 0}
    if typed:
        kinds = sorted(typed)
        return GpuCount(sum(typed.values()), kinds[0] if len(kinds) == 1 else "mixed")
    return GpuCount(counts.get(_GPU, 0), None)


def gpus_from_string(text: str, *, field: str = "tres") -> GpuCount:
    return _pick(parse_tres_string(text, field=field))


def gpus_from_json(entries: Iterable[Mapping[str, Any]], *, field: str = "tres") -> GpuCount:
    """The dbv0.0.38 list form: ``[{"type": "gres", "name": "gpu:h800", "count": 8}, …]``."""
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.get("type") != "gres":
            continue
        name, count = entry.get("name"), entry.get("count")
        if not isinstance(name, str) or not name.startswith("gpu"):
            continue
        if type(count) is not int:
            raise BackendOutputInvalid(f"TRES gres/{name} has count {count!r}", field=field)
        counts[f"gres/{name}"] = counts.get(f"gres/{name}", 0) + count
    return _pick(counts)
