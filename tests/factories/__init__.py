"""Builder functions for test data: one module per domain, sensible defaults, unique names.

Each builder adds and flushes (never commits) so it works inside the rolled-back ``session``.
"""
