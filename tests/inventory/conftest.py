"""The API fixtures (app, client, actors, world) for the inventory API tests."""

from tests.api.fixtures import actors, api_settings, app, client, world

__all__ = ["actors", "api_settings", "app", "client", "world"]
