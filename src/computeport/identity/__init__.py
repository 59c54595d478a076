"""Organisations, users, memberships and roles; API tokens and passwords; the request's subject."""
