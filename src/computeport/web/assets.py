"""Static assets: our CSS/JS from ``web/static`` and plotly.js from the installed plotly package.

plotly.js is served from the package (``plotly.offline.get_plotlyjs()``), never a CDN, gzipped
once in memory and cached by browsers for a day.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache

from fastapi import APIRouter, Request, Response

PLOTLY_PATH = "/static/vendor/plotly.min.js"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _plotly() -> tuple[bytes, bytes, str]:
    """(plain, gzipped, etag) of the packaged plotly.js."""
    from plotly.offline import get_plotlyjs

    plain = get_plotlyjs().encode("utf-8")
    return plain, gzip.compress(plain, compresslevel=6), hashlib.sha256(plain).hexdigest()[:16]


@router.get(PLOTLY_PATH)
def plotly_js(request: Request) -> Response:
    plain, packed, etag = _plotly()
    headers = {"cache-control": "public, max-age=86400", "etag": f'"{etag}"'}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        headers["vary"] = "accept-encoding"
        return Response(packed, media_type="application/javascript", headers=headers)
    return Response(plain, media_type="application/javascript", headers=headers)
