"""Query parameters that page through lists, bounded so that any value passes to SQL.

An unbounded integer from a query string reaches the database as a 64-bit parameter: a larger
one is an overflow (a 500) rather than a 422 naming the parameter.  Every list takes these.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_SQL_INTEGER = 2**63 - 1
"""The largest value a BIGINT (and SQLite's INTEGER) holds."""
MAX_PAGE = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER, description="Rows to skip.")]
AfterId = Annotated[
    int, Query(ge=0, le=MAX_SQL_INTEGER, description="Keyset: rows with a larger id.")
]

__all__ = ["MAX_PAGE", "MAX_SQL_INTEGER", "AfterId", "Limit", "Offset"]
