"""The API fixtures for identity's API tests."""

from tests.api.fixtures import actors, api_settings, app, client, world

__all__ = ["actors", "api_settings", "app", "client", "world"]
