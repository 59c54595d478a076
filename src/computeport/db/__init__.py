"""Database plumbing: engine, sessions, the declarative base and column types."""
