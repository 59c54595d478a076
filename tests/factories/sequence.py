"""A process-wide counter so builders make unique names without coordinating."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"
