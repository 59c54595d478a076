"""Value types every layer shares: money, rates, GPU-seconds, clocks, ids and typed errors.

``kit`` imports nothing else of computeport, so the framework-free core can use it.
"""
