"""The append-only guard on money tables, as SQL for each engine.

Why triggers: rows of the ledger, the rating sub-ledger and the issued documents are evidence;
the application never edits them, and the database refuses it too, so neither a bug nor a hand
in a SQL console can rewrite history.  Migrations that add such a table (or, on SQLite, rebuild
one and so lose its triggers) call :func:`append_only_triggers`; the PostgreSQL trigger function
``computeport_append_only()`` is created once, by migration 0001.
"""

from __future__ import annotations

from collections.abc import Iterable


def append_only_triggers(dialect: str, tables: Iterable[str]) -> list[str]:
    """``CREATE TRIGGER`` statements that refuse UPDATE and DELETE on ``tables``."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for table in tables
            for operation in ("update", "delete")
        ]
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION computeport_append_only()"
            for table in tables
        ]
    return []


__all__ = ["append_only_triggers"]
