"""The live stream of a product: ``/voltstorage/rest/products/{id}/stream?token=`` and
``/voltstorage/rest/data/stream?productId=&token=``.

Server to client only (frames from the client are ignored). On connect the subscriber first
receives the product's current latest data, then one frame per ingestion that changed it,
from any server process when the channel layer is Redis::

    {"type": "latest-data", "time": 1575154800, "data": {"pvPower": 421, "dcVoltage": 26.3}}

Refusals (the socket is accepted, then closed with the code; ``core.sockets``): 4401 no or bad
credential (a VoltStorage token works here, it is this API's), 4400 a missing or malformed
``productId``, 4404 a product that does not exist or that the user may not see. Browsers from
foreign origins are refused at the handshake; devices and scripts send no ``Origin``.
"""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from core.sockets import CLOSE_NOT_FOUND, SocketRefused, StreamConsumer
from voltstorage.models import Product, Series
from voltstorage.services import latest_message, product_group

CLOSE_BAD_REQUEST = 4400


@database_sync_to_async
def _visible(user, product_id: int) -> bool:
    from voltstorage.views import PRODUCT_ACCESS

    visible = PRODUCT_ACCESS.visible(Product.objects.all(), SimpleNamespace(user=user))
    return visible.filter(pk=product_id).exists()


@database_sync_to_async
def _latest(product_id: int) -> dict:
    series = Series.objects.filter(product_id=product_id, component__isnull=True).first()
    return {"type": "latest-data", **latest_message(series.latest if series else {})}


class ProductStreamConsumer(StreamConsumer):
    def product_id(self) -> int:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        if "product_id" in kwargs:
            return int(kwargs["product_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("productId") or [""])[0]
        if not raw.isdigit() or len(raw) > 18:
            raise SocketRefused(CLOSE_BAD_REQUEST, "productId: required, an integer.")
        return int(raw)

    async def authorize(self, user):
        self.stream_product = self.product_id()
        if not await _visible(user, self.stream_product):
            raise SocketRefused(CLOSE_NOT_FOUND, f"No product {self.stream_product}.")
        return [product_group(self.stream_product)]

    async def opened(self):
        # Read once the socket is in its group: no ingestion falls between the two.
        await self.send_json(await _latest(self.stream_product))
