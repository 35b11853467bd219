"""Views of the VoltStorage REST API under ``/voltstorage/rest``.

The published API (which only reads): ``login/password``, ``products``, ``products/{id}``,
the latest data, statistics and export of a product (both the product-nested paths and the
``data/...?productId=`` forms), and the stream (``voltstorage.consumers``). Beyond it, what the
platform needs to be fed: registration of product types (staff), groups, products and
components, device ingestion, and the field catalogue.

Credentials: the JWT of ``login/password`` in ``Authorization: Bearer`` or ``?token=``, a
platform JWT, an API key or the session. Who sees what: a product is visible to its
organization's members, its owner user, its group's owner user and staff; anything else is
404, as on the rest of the platform (the original answers 403). Writing needs the member role
in the organization (deleting a group or product the owner role); product types are edited by
staff. Every error is ``{"errors": ["..."]}`` (``voltstorage.apps``).
"""

from voltstorage.views.common import (
    AUTHENTICATION,
    COMPONENT_ACCESS,
    GROUP_ACCESS,
    PRODUCT_ACCESS,
    product_for,
    visible_products,
    writable_product,
)
from voltstorage.views.data import (
    ExportView,
    IngestView,
    LatestDataQueryView,
    LatestDataView,
    StatisticsQueryView,
    StatisticsView,
)
from voltstorage.views.registration import (
    ComponentViewSet,
    FieldsView,
    GroupViewSet,
    LoginView,
    ProductTypeViewSet,
    ProductViewSet,
)

__all__ = [
    "AUTHENTICATION",
    "COMPONENT_ACCESS",
    "GROUP_ACCESS",
    "PRODUCT_ACCESS",
    "ComponentViewSet",
    "ExportView",
    "FieldsView",
    "GroupViewSet",
    "IngestView",
    "LatestDataQueryView",
    "LatestDataView",
    "LoginView",
    "ProductTypeViewSet",
    "ProductViewSet",
    "StatisticsQueryView",
    "StatisticsView",
    "product_for",
    "visible_products",
    "writable_product",
]
