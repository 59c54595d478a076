"""The API fixtures (app, client, actors, world) for the billing API tests.

A test module that defines its own ``world`` (the golden month) overrides this one.
"""

from tests.api.fixtures import actors, api_settings, app, client, world

__all__ = ["actors", "api_settings", "app", "client", "world"]
