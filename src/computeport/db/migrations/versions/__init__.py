"""The revisions (Alembic loads them by path and skips this file)."""
