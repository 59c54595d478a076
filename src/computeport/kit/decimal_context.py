"""Trap :class:`decimal.FloatOperation` so a float can never silently become money.

Polar's ``Decimal(float)`` class of bug — ``Decimal(0.7)`` is 0.6999999999999999555910790149937… —
is closed by making any mixing of floats and Decimals raise.  Importing :mod:`computeport.kit`
modules that handle money calls :func:`install` once per thread.
"""

from __future__ import annotations

import decimal


def install() -> None:
    """Trap float → Decimal conversions and comparisons in the current thread's context."""
    ctx = decimal.getcontext()
    ctx.traps[decimal.FloatOperation] = True
    if ctx.prec < 28:
        ctx.prec = 28


install()
