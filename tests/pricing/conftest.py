"""API test fixtures (defined in ``tests.api.fixtures`` so other test packages can import them)."""

from tests.api.fixtures import actors, api_settings, app, client, world

__all__ = ["actors", "api_settings", "app", "client", "world"]
