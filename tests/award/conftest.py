"""API fixtures for the award-side tests."""

from tests.api.fixtures import actors, api_settings, app, client, world

__all__ = ["actors", "api_settings", "app", "client", "world"]
