"""What redaction adds to a request: the data policy applied to chat bodies of growing size.

The gateway's budget is a few milliseconds of overhead per request (issue 13); redaction runs
on the event loop for every request of a department that turned it on, so its cost must stay
far below that for ordinary prompts and grow no worse than linearly with the prompt.  Each row
is one body size, with and without identifiers (a prompt with none still pays the scan), timed
as the median CPU time (the thread's, so other processes on a shared machine do not count) of
``--repeat`` runs of :func:`~computeport.gateway.privacy.apply_data_policy` (scan, replace,
re-encode).

    .venv/bin/python benchmarks/bench_redaction.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

from rich.console import Console
from rich.table import Table

from computeport.gateway.lookups import DeploymentInfo, KeyInfo
from computeport.gateway.privacy import apply_data_policy

PLAIN = (
    "Please summarise the department's 2026 budget: HK$23,456,789 for staff, invoice "
    "23456789 settled on 20261204, and a 3.5% rise on the 12,000 cases handled. "
)
PERSONAL = "Contact Chan Tai Man, A123456(3), on +852 9123 4567 or chan.tm@dpo.gov.hk. "

KEY = KeyInfo(
    id=uuid.uuid4(),
    organisation_id=uuid.uuid4(),
    application="bench",
    award_id=None,
    award_reference=None,
    key_rpm=1,
    key_tpm=1,
    org_rpm=1,
    org_tpm=1,
    monthly_tokens=None,
    month_used=0,
    redact=True,
    allowed_sites=frozenset({"cyberport"}),
)
DEPLOYMENT = DeploymentInfo(
    "m", "bench", 0, ("http://a/v1", "http://b/v1"), sites=("cyberport", "sandy-ridge")
)


def body(size: int, personal: bool) -> tuple[dict[str, object], bytes]:
    sentence = PLAIN + (PERSONAL if personal else "")
    text = (sentence * (size // len(sentence) + 1))[:size]
    b = {"model": "m", "messages": [{"role": "user", "content": text}], "max_tokens": 64}
    return b, json.dumps(b).encode()


def median_us(size: int, personal: bool, repeat: int) -> tuple[float, int]:
    b, raw = body(size, personal)
    times: list[float] = []
    found = 0
    for _ in range(repeat):
        t0 = time.thread_time()
        found = apply_data_policy(KEY, DEPLOYMENT, "chat.completions", b, raw).redactions
        times.append(time.thread_time() - t0)
    return statistics.median(times) * 1e6, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    a = ap.parse_args()
    table = Table(title="Data policy per chat request (median CPU time)")
    for col in ("prompt", "identifiers", "redacted", "CPU µs", "µs per KiB"):
        table.add_column(col, justify="right")
    for size in (256, 2048, 16384, 65536):
        for personal in (False, True):
            us, found = median_us(size, personal, a.repeat)
            table.add_row(
                f"{size:,} B",
                "yes" if personal else "none",
                str(found),
                f"{us:,.0f}",
                f"{us / (size / 1024):,.1f}",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
