"""The accelerator types the centre knows, with their peak dense throughput per precision.

One allow-list for every domain (applications, awards, inventory): an unknown type anywhere is
bad input.  Peak figures are vendor datasheet numbers for dense math (no structured sparsity),
in TFLOPS; ``None`` where the hardware has no such mode.  The AISC runs NVIDIA H800 throughout
(DESIGN.md); the others are types a centre evaluates.

Sources (datasheets): H800/H100/H200 SXM — 989 TFLOPS BF16/FP16 dense, 1,979 FP8 dense, 67
FP32 (non-tensor); A100 SXM — 312 BF16/FP16 dense, 19.5 FP32, no FP8.  Ascend 910B — about 313
TFLOPS FP16 (public estimates; marked as an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from computeport.kit.errors import ValidationFailed


@dataclass(frozen=True)
class AcceleratorSpec:
    """One accelerator type: its peak dense TFLOPS by precision (``fp8``, ``fp16``, …)."""

    key: str
    name: str
    peak_tflops: dict[str, Decimal | None]
    is_assumption: bool = False

    def peak(self, precision: str) -> Decimal | None:
        return self.peak_tflops.get(precision)


def _spec(
    key: str, name: str, fp8: str | None, fp16: str, fp32: str, *, assumed: bool = False
) -> AcceleratorSpec:
    return AcceleratorSpec(
        key,
        name,
        {
            "fp8": Decimal(fp8) if fp8 is not None else None,
            "fp16": Decimal(fp16),
            "bf16": Decimal(fp16),
            "fp32": Decimal(fp32),
        },
        is_assumption=assumed,
    )


ACCELERATORS: dict[str, AcceleratorSpec] = {
    s.key: s
    for s in (
        _spec("h800", "NVIDIA H800 SXM", "1979", "989.5", "67"),
        _spec("h100", "NVIDIA H100 SXM", "1979", "989.5", "67"),
        _spec("h200", "NVIDIA H200 SXM", "1979", "989.5", "67"),
        _spec("a100", "NVIDIA A100 SXM", None, "312", "19.5"),
        _spec("ascend-910b", "Huawei Ascend 910B", None, "313", "78", assumed=True),
    )
}

KNOWN_ACCELERATOR_TYPES = frozenset(ACCELERATORS)


def accelerator(key: str, *, field: str = "accelerator_type") -> AcceleratorSpec:
    """The spec of ``key`` or :class:`ValidationFailed` naming ``field`` and the known types."""
    spec = ACCELERATORS.get(key)
    if spec is None:
        known = ", ".join(sorted(ACCELERATORS))
        raise ValidationFailed(
            f"{field}: unknown accelerator type {key!r}; known: {known}", field=field
        )
    return spec
