"""Portal fixtures (see ``tests.web.fixtures``)."""

from tests.web.fixtures import browser, people, portal_app, portal_settings

__all__ = ["browser", "people", "portal_app", "portal_settings"]
