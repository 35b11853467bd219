"""WebSocket routes of VoltStorage (collected by ``core.routing``)."""

from django.urls import path

from voltstorage.consumers import ProductStreamConsumer

websocket_urlpatterns = [
    path(
        "voltstorage/rest/products/<int:product_id>/stream",
        ProductStreamConsumer.as_asgi(),
    ),
    path("voltstorage/rest/products/<int:product_id>/stream/", ProductStreamConsumer.as_asgi()),
    path("voltstorage/rest/data/stream", ProductStreamConsumer.as_asgi()),
    path("voltstorage/rest/data/stream/", ProductStreamConsumer.as_asgi()),
]
