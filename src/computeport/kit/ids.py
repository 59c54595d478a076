"""Time-ordered UUIDs (version 7, RFC 9562) until the standard library grows ``uuid.uuid7``.

Time-ordered keys keep B-tree inserts local and make ids sort roughly by creation.
"""

from __future__ import annotations

import os
import time
import uuid

_last_ms = 0
_counter = 0


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, 12 bits of sequence, 62 random bits.

    Within one millisecond the 12-bit sequence keeps ids from one process monotonic.
    """
    global _last_ms, _counter
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if ms == _last_ms:
        _counter = (_counter + 1) & 0xFFF
    else:
        _last_ms, _counter = ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= _counter << 64
    value |= 0b10 << 62
    value |= rand
    return uuid.UUID(int=value)
