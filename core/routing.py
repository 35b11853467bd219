"""WebSocket routes: the platform's own stream plus those the apps declare."""

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.urls import path

from core.consumers import PlatformStreamConsumer

websocket_urlpatterns = [
    path("ws/platform/", PlatformStreamConsumer.as_asgi()),
]


def collect_websocket_urlpatterns() -> list:
    """The platform's routes followed by each app's ``<app>.routing.websocket_urlpatterns``."""
    patterns = list(websocket_urlpatterns)
    for app in settings.PLATFORM_APPS:
        if find_spec(f"{app}.routing") is not None:
            patterns.extend(import_module(f"{app}.routing").websocket_urlpatterns)
    return patterns
