"""Template context for the site's pages: the navigation links the apps contribute.

Core names no app. An app adds links to the navigation of signed-in users by declaring them
on its ``AppConfig``::

    class BatterydbConfig(AppConfig):
        nav_links = [("EIS tests", "batterydb-pages:eis-test-list")]

Each entry is a label and a URL name. Links appear in the order of ``INSTALLED_APPS``, then of
the list. A link whose URL name the URL configuration does not mount is left out, so that an
app's pages can be switched off by not including its URLs.
"""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject


def app_nav_links() -> list[tuple[str, str]]:
    """``(label, url)`` of every page link the installed apps declare."""
    links = []
    for config in apps.get_app_configs():
        for label, url_name in getattr(config, "nav_links", ()):
            try:
                links.append((label, reverse(url_name)))
            except NoReverseMatch:
                continue
    return links


def navigation(request: HttpRequest) -> dict:
    """``nav_links`` for ``core/base.html``, resolved only when a page shows them."""
    return {"nav_links": SimpleLazyObject(app_nav_links)}
