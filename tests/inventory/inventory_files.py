"""The inventory files the tests read: the shipped Cyberport file, and small edits of it."""

from __future__ import annotations

from pathlib import Path

CYBERPORT = Path(__file__).resolve().parents[2] / "deploy" / "inventory" / "cyberport.toml"

H800_AT_CYBERPORT = """\
[accelerators.h800]
vendor = "NVIDIA"
model = "H800"
memory_gb = 80
peak_pflops = 0.99

[sites.cyberport]
name = "Cyberport"
"""
"""The accelerator type and the site, without a cluster (tests add their own)."""

WTEST_AT_CYBERPORT = (
    H800_AT_CYBERPORT
    + """
[clusters.wtest]
site = "cyberport"
backend = "sim"

[clusters.wtest.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 4
"""
)
"""The worker tests' centre: its virtual cluster ``wtest`` (the name the worker fixtures open),
32 H800 at Cyberport; tests add the clusters they are about."""

SMALL = (
    H800_AT_CYBERPORT
    + """
[clusters.alpha]
site = "cyberport"
backend = "sim"

[clusters.alpha.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 4
"""
)
"""One site, one virtual cluster of 32 H800 (31.68 PF)."""

BETA = """
[clusters.beta]
site = "cyberport"
backend = "slurm"

[clusters.beta.slurm]
slurm_conf = "/etc/slurm-beta/slurm.conf"

[clusters.beta.partitions.gpu]
accelerator = "h800"
gpus_per_node = 4
nodes = 2
"""
"""A second cluster to append to :data:`SMALL`."""


def cyberport_text() -> str:
    return CYBERPORT.read_text(encoding="utf-8")


def line_number(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")
