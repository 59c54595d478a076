"""The baseline of ``bench_read_api.py --bare``: a bare FastAPI app answering a constant JSON.

It answers every GET with the same body, padded to ``BENCH_BARE_BYTES`` (the mean size of
computeport's answers in the same run), and is served by uvicorn with computeport's own server
settings, so the ratio ours / bare says what computeport's work costs beyond the framework and
the server.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI


def constant_body(size: int) -> dict[str, Any]:
    """A JSON object whose encoding (``json.dumps``, compact as FastAPI's) has ``size`` bytes."""
    body: dict[str, Any] = {"id": "00000000-0000-0000-0000-000000000000", "pad": ""}
    overhead = len(json.dumps(body, separators=(",", ":")))
    body["pad"] = "x" * max(0, size - overhead)
    return body


def app_factory() -> FastAPI:
    body = constant_body(int(os.environ.get("BENCH_BARE_BYTES", "512")))
    app = FastAPI()

    @app.get("/{path:path}")
    async def constant(path: str) -> dict[str, Any]:
        return body

    return app
