"""Seed data: the Cyberport scenario of DESIGN.md (``computeport seed cyberport``)."""
