"""Alembic's environment and revisions, a package so that import-linter sees what they import."""
