"""Login, the field catalogue, and registration: product types (staff), groups, products and
their components."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core import tokens
from core.access import AccessControlledViewSetMixin
from core.openapi import PAGE_HEADERS
from core.views import AccessTokenObtainView
from voltstorage import catalogue
from voltstorage.filters import Page, filter_products
from voltstorage.models import Component, Group, Product, ProductType
from voltstorage.openapi import PAGE_PARAMETERS, VoltStorageAutoSchema
from voltstorage.serializers import (
    ComponentSerializer,
    GroupSerializer,
    LoginBodySerializer,
    ProductSerializer,
    ProductTypeSerializer,
)
from voltstorage.views.common import (
    COMPONENT_ACCESS,
    GROUP_ACCESS,
    PRODUCT_ACCESS,
    PRODUCT_ID,
    VoltStorageViewMixin,
    product_for,
)


class LoginSerializer(tokens.AccessTokenObtainSerializer):
    """E-mail (any case) and password in; one token valid for ``validity`` seconds out."""

    token_class = tokens.VoltStorageAccessToken
    username_field = "email"
    lifetime_field = "validity"

    def invalid_credentials(self, exc):
        # The original answers bad credentials with a 400, as it does missing parameters.
        raise exceptions.ValidationError("Invalid e-mail address or password.")


class LoginView(AccessTokenObtainView):
    serializer_class = LoginSerializer
    authentication_classes: list = []
    schema = VoltStorageAutoSchema()

    @extend_schema(
        summary="Log in: a JWT for the VoltStorage API",
        description="E-mail (any case) and password; `validity` seconds from 0 to 31622400 "
        "(default 86400). The token is accepted by the VoltStorage API only, in "
        "`Authorization: Bearer` or `?token=`. Missing parameters and wrong credentials are a "
        "400; failed attempts lock the account and address for a while (429).",
        request=LoginBodySerializer,
        responses={
            200: inline_serializer("VoltStorageToken", {"token": serializers.CharField()}),
        },
        tags=["voltstorage"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class FieldsView(VoltStorageViewMixin, APIView):
    """The field catalogue."""

    @extend_schema(
        summary="The data fields products report",
        description="Wire names (JSON, `fields=`), CSV labels, units, meanings.\n\n"
        + catalogue.markdown_table(),
        responses={
            200: inline_serializer(
                "VoltStorageField",
                {
                    "name": serializers.CharField(),
                    "label": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "meaning": serializers.CharField(),
                },
                many=True,
            )
        },
    )
    def get(self, request):
        return Response(
            [
                {"name": spec.name, "label": spec.label, "unit": spec.unit, "meaning": spec.meaning}
                for spec in catalogue.FIELDS
            ]
        )


class IsStaffForWrites(permissions.BasePermission):
    message = "Only staff may change product types."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


@extend_schema(tags=["voltstorage"])
class ProductTypeViewSet(VoltStorageViewMixin, viewsets.ModelViewSet):
    """Product types: platform-wide, read by everyone signed in, edited by staff."""

    queryset = ProductType.objects.order_by("id")
    serializer_class = ProductTypeSerializer
    permission_classes = [IsStaffForWrites]
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class ScopedListMixin:
    """Bare-array lists paged by ``count`` and ``page``, and creates that check the member
    role in the organization the validated body names (``organization_id``)."""

    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def page_response(self, queryset):
        page = Page.of(self.request, queryset)
        data = self.get_serializer(page.items, many=True).data
        return Response(data, headers=page.headers())

    def perform_create(self, serializer):
        self.access.check_create(self.request, [serializer.validated_data["organization_id"]])
        with transaction.atomic():
            serializer.save()

    def perform_update(self, serializer):
        with transaction.atomic():
            serializer.save()


@extend_schema(tags=["voltstorage"])
class GroupViewSet(
    VoltStorageViewMixin, ScopedListMixin, AccessControlledViewSetMixin, viewsets.ModelViewSet
):
    """Groups of products; visible to the organization's members and the owner user."""

    access = GROUP_ACCESS
    queryset = Group.objects.select_related("owner")
    serializer_class = GroupSerializer

    @extend_schema(parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS])
    def list(self, request, *args, **kwargs):
        return self.page_response(self.get_queryset().order_by("id"))


@extend_schema(tags=["voltstorage"])
class ProductViewSet(
    VoltStorageViewMixin, ScopedListMixin, AccessControlledViewSetMixin, viewsets.ModelViewSet
):
    """Products; visible to the organization's members, the owner user, the group's owner
    user and staff."""

    access = PRODUCT_ACCESS
    queryset = Product.objects.select_related("type", "group", "group__owner", "owner")
    serializer_class = ProductSerializer
    lookup_url_kwarg = "product_id"

    @extend_schema(
        summary="Fetches a list of products",
        description="Only products the authenticated user has access to, as a bare array. "
        "The total is in `X-Total-Count`, the next page in `Link`.",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "q",
                str,
                description="Free text over the id, the serial number, the type's "
                "name and the group's name.",
            ),
            OpenApiParameter("groupId", int, description="Only the products of this group."),
            OpenApiParameter(
                "installationDate",
                bool,
                description="`true`: installed products only; `false`: those not installed.",
            ),
            OpenApiParameter(
                "ids",
                {"type": "array", "items": {"type": "integer"}},
                explode=True,
                description="Only these products: `ids=1&ids=2` or `ids=1,2`.",
            ),
            OpenApiParameter("ownerId", int, description="Only products of this owner user."),
            OpenApiParameter(
                "sort",
                str,
                description="Comma-separated fields, `-` before one for descending order "
                "(`installationDate,-id`); empty values sort last. Fields: id, serialNumber, "
                "hardwareVersion, manufacturingDate, installationDate, timezone, createdAt, "
                "updatedAt, typeId, groupId.",
            ),
            *PAGE_HEADERS,
        ],
    )
    def list(self, request, *args, **kwargs):
        return self.page_response(filter_products(self.get_queryset(), request.query_params))


@extend_schema(tags=["voltstorage"], parameters=[PRODUCT_ID])
class ComponentViewSet(
    VoltStorageViewMixin, ScopedListMixin, AccessControlledViewSetMixin, viewsets.ModelViewSet
):
    """The components of a product (a battery module, the inverter): each has its own series
    (``componentId`` in ingestion and export); visible with their product."""

    access = COMPONENT_ACCESS
    serializer_class = ComponentSerializer
    lookup_url_kwarg = "component_id"

    def get_queryset(self):
        product = product_for(self.request, int(self.kwargs["product_id"]))
        return Component.objects.filter(product=product).order_by("id")

    @extend_schema(parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS])
    def list(self, request, *args, **kwargs):
        return self.page_response(self.get_queryset())

    def perform_create(self, serializer):
        product = product_for(self.request, int(self.kwargs["product_id"]))
        if not self.access.may_change(self.request, Component(product=product), "POST"):
            raise exceptions.PermissionDenied(
                "Adding components needs the member role in the product's organization."
            )
        with transaction.atomic():
            serializer.save(product=product)
