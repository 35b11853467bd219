"""What every VoltStorage view shares: credentials, access policies, finding a product."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication

from core.access import AccessPolicy, Members, UserField
from core.authentication import (
    JWTAuthentication,
    QueryTokenJWTAuthentication,
    UserAPIKeyAuthentication,
)
from core.parsers import ORJSONParser
from voltstorage.filters import integer_param
from voltstorage.models import Product, Series
from voltstorage.openapi import VoltStorageAutoSchema

AUTHENTICATION = [
    UserAPIKeyAuthentication,
    QueryTokenJWTAuthentication,
    JWTAuthentication,
    SessionAuthentication,
]

PRODUCT_ACCESS = AccessPolicy(readers=[Members(), UserField("owner"), UserField("group__owner")])
GROUP_ACCESS = AccessPolicy(readers=[Members(), UserField("owner")])
COMPONENT_ACCESS = AccessPolicy(
    organization="product__organization",
    readers=[Members(), UserField("product__owner"), UserField("product__group__owner")],
)

NOT_VISIBLE = "No product {}: it does not exist or is not visible to you."
PRODUCT_ID = OpenApiParameter(
    "productId", int, OpenApiParameter.PATH, description="The product's id."
)
PRODUCT_ID_QUERY = OpenApiParameter(
    "productId", int, required=True, description="The product's id."
)


class VoltStorageViewMixin:
    authentication_classes = AUTHENTICATION
    parser_classes = [ORJSONParser]
    schema = VoltStorageAutoSchema()


def visible_products(request):
    return PRODUCT_ACCESS.visible(Product.objects.all(), request)


def product_for(request, product_id: int) -> Product:
    """The product, if the request's user may see it; else a 404."""
    product = visible_products(request).filter(pk=product_id).first()
    if product is None:
        raise exceptions.NotFound(NOT_VISIBLE.format(product_id))
    return product


def writable_product(request, product_id: int) -> Product:
    """The product, if the request's user may write its data (the member role in its
    organization, or staff); 403 for one the user only sees, 404 for one beyond that. Two
    small queries (the product, the user's roles) instead of the readers' union."""
    product = Product.objects.filter(pk=product_id).first()
    if product is not None and PRODUCT_ACCESS.may_change(request, product, "POST"):
        return product
    if product is not None and PRODUCT_ACCESS.reads_through(request, product):
        raise exceptions.PermissionDenied(
            "Storing data needs the member role in the product's organization."
        )
    raise exceptions.NotFound(NOT_VISIBLE.format(product_id))


def product_id_of(request, kwargs) -> int:
    """``productId`` from the path, else from the query (required)."""
    if "product_id" in kwargs:
        return int(kwargs["product_id"])
    value = integer_param(request.query_params, "productId")
    if value is None:
        raise exceptions.ValidationError({"productId": ["Required: the product's id."]})
    return value


def series_of(product_id: int, component_id: int | None = None) -> Series | None:
    return Series.objects.filter(product_id=product_id, component_id=component_id).first()
