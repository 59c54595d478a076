"""Load the Slurm output recorded from the local test cluster (scripts/slurm-cluster)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent / "recorded"


def text(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def data(name: str) -> dict[str, Any]:
    loaded = json.loads(text(name))
    assert isinstance(loaded, dict)
    return loaded
