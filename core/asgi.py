"""ASGI entry point: HTTP through Django and the WebSocket routes collected from the apps.

Each app may expose ``websocket_urlpatterns`` in its ``routing`` module; they are found by
dotted name, so ``core`` imports no app.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.routing import collect_websocket_urlpatterns  # noqa: E402
from core.websocket_auth import (  # noqa: E402
    BrowserOriginValidator,
    WebSocketAuthMiddlewareStack,
)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(
            WebSocketAuthMiddlewareStack(URLRouter(collect_websocket_urlpatterns()))
        ),
    }
)
