"""The scheduling core: cluster model, queue orders, backfill, placement, quotas, preemption.

Framework-free (an import-linter contract): integer seconds, no SQLAlchemy, no FastAPI.
"""
