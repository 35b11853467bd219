"""Input and output of the VoltStorage API: product types, groups, products, components.

Names on the wire are camelCase as in the original (``serialNumber``, ``typeId``). A product
is shaped exactly like the documented sample: its own fields, ``type``, ``group`` with its
``owner``, ``errors`` and ``online``; the organization (``organizationId``) and the owner user
(``ownerId``) are accepted on writes. Their OpenAPI components are named ``VoltStorage<Name>``.

Where a new group or product goes: ``organizationId`` if given (an organization of the user's;
creating needs the member role there, ``voltstorage.views``), else a product's group's
organization, else the user's only organization; it never changes afterwards. A product's
group must belong to the product's organization.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.management.commands.setupdemo import DEMO_USERNAME
from core.models import Organization
from core.tenancy import is_staff, organization_roles
from voltstorage.models import Component, Group, Product, ProductType, validate_time_zone

User = get_user_model()


class MillisecondsDateTimeField(serializers.DateTimeField):
    """``2019-05-21T08:24:43.357Z``: UTC with milliseconds, as the original writes times."""

    def to_representation(self, value):
        if value is None:
            return None
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user_name(user) -> str:
    """A user's full name, else the username."""
    return user.get_full_name().strip() or user.get_username()


@extend_schema_serializer(component_name="VoltStorageOwner")
class OwnerSerializer(serializers.Serializer):
    """The user who owns a group (the homeowner)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField(help_text="Full name, else the username.")
    email = serializers.EmailField(read_only=True)
    demo = serializers.SerializerMethodField(help_text="True for the platform's demo account.")

    def get_name(self, user) -> str:
        return user_name(user)

    def get_demo(self, user) -> bool:
        return user.get_username() == DEMO_USERNAME


@extend_schema_serializer(component_name="VoltStorageProductType")
class ProductTypeSerializer(serializers.ModelSerializer):
    startOfProduction = serializers.DateField(
        source="start_of_production", required=False, allow_null=True
    )
    baseType = serializers.CharField(source="base_type", required=False, max_length=50)

    class Meta:
        model = ProductType
        fields = ["id", "name", "startOfProduction", "baseType"]


def _organization_choice(serializer, named: int | None) -> int | None:
    """The organization ``organizationId`` names, checked to be one of the user's."""
    request = serializer.context["request"]
    if named is None:
        return None
    if named in organization_roles(request) or (
        is_staff(request) and Organization.objects.filter(pk=named).exists()
    ):
        return named
    raise serializers.ValidationError({"organizationId": [f"No organization {named} of yours."]})


def _only_organization(serializer) -> int:
    roles = organization_roles(serializer.context["request"])
    if len(roles) == 1:
        return next(iter(roles))
    raise serializers.ValidationError(
        {
            "organizationId": [
                f"Name the organization: you belong to {len(roles)} organizations."
                if roles
                else "Name the organization: you belong to none."
            ]
        }
    )


class OrganizationFieldMixin:
    """``organizationId`` on writes: where a new object goes; never changes after create."""

    def check_organization(self, attrs: dict, fallback: int | None = None) -> dict:
        named = _organization_choice(self, attrs.pop("organization_id", None))
        if self.instance is not None:
            if named is not None and named != self.instance.organization_id:
                raise serializers.ValidationError(
                    {"organizationId": ["The organization cannot be changed after create."]}
                )
            return attrs
        attrs["organization_id"] = named or fallback or _only_organization(self)
        return attrs


@extend_schema_serializer(component_name="VoltStorageProductGroup")
class ProductGroupSerializer(serializers.ModelSerializer):
    """A product's group, as the product shows it."""

    ownerId = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    owner = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Group
        fields = ["id", "ownerId", "name", "latitude", "longitude", "owner"]


@extend_schema_serializer(component_name="VoltStorageGroup")
class GroupSerializer(OrganizationFieldMixin, serializers.ModelSerializer):
    organizationId = serializers.IntegerField(
        source="organization_id",
        required=False,
        help_text="The organization (yours) it belongs to; implied if you belong to one.",
    )
    ownerId = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="The user who owns the group (the homeowner); sees its products.",
    )
    owner = OwnerSerializer(read_only=True, allow_null=True)
    createdAt = MillisecondsDateTimeField(source="created_at", read_only=True)
    updatedAt = MillisecondsDateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Group
        fields = [
            "id",
            "organizationId",
            "ownerId",
            "name",
            "latitude",
            "longitude",
            "owner",
            "createdAt",
            "updatedAt",
        ]

    def validate(self, attrs):
        return self.check_organization(attrs)


@extend_schema_serializer(component_name="VoltStorageProduct")
class ProductSerializer(OrganizationFieldMixin, serializers.ModelSerializer):
    """A product, shaped exactly as the original's list shows it."""

    ownerName = serializers.SerializerMethodField(
        help_text="The owner user's name; null when the product names none."
    )
    serialNumber = serializers.CharField(source="serial_number", max_length=100)
    hardwareVersion = serializers.CharField(
        source="hardware_version", max_length=50, required=False, allow_blank=True
    )
    manufacturingDate = serializers.DateField(
        source="manufacturing_date", required=False, allow_null=True
    )
    installationDate = serializers.DateField(
        source="installation_date", required=False, allow_null=True
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        help_text="IANA time zone of the site (default UTC); statistics' days follow it.",
    )
    createdAt = MillisecondsDateTimeField(source="created_at", read_only=True)
    updatedAt = MillisecondsDateTimeField(source="updated_at", read_only=True)
    typeId = serializers.PrimaryKeyRelatedField(source="type", queryset=ProductType.objects.all())
    groupId = serializers.PrimaryKeyRelatedField(
        source="group", queryset=Group.objects.all(), required=False, allow_null=True
    )
    type = ProductTypeSerializer(read_only=True)
    group = ProductGroupSerializer(read_only=True, allow_null=True)
    errors = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The product's current error codes (as its latest ingestion sent them).",
    )
    online = serializers.BooleanField(
        read_only=True, help_text="Whether data arrived within VOLTSTORAGE_ONLINE_SECONDS."
    )
    organizationId = serializers.IntegerField(
        source="organization_id",
        write_only=True,
        required=False,
        help_text="The organization (yours) it belongs to; else its group's, else your only one.",
    )
    ownerId = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=User.objects.filter(is_active=True),
        write_only=True,
        required=False,
        allow_null=True,
        help_text="The user who owns the product (the homeowner); sees it and its data.",
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "ownerName",
            "serialNumber",
            "hardwareVersion",
            "manufacturingDate",
            "installationDate",
            "timezone",
            "createdAt",
            "updatedAt",
            "typeId",
            "groupId",
            "type",
            "group",
            "errors",
            "online",
            "organizationId",
            "ownerId",
        ]
        # The unique serial per organization is checked in validate().
        validators: list = []

    @extend_schema_field({"type": "string", "nullable": True})
    def get_ownerName(self, product) -> str | None:
        return user_name(product.owner) if product.owner_id else None

    def validate_groupId(self, group):
        if group is None:
            return group
        request = self.context["request"]
        if not is_staff(request) and group.organization_id not in organization_roles(request):
            raise serializers.ValidationError(f"No group {group.pk} of yours.")
        return group

    def validate(self, attrs):
        group = attrs.get("group", getattr(self.instance, "group", None))
        attrs = self.check_organization(attrs, fallback=group.organization_id if group else None)
        organization_id = attrs.get("organization_id") or self.instance.organization_id
        if group is not None and group.organization_id != organization_id:
            raise serializers.ValidationError(
                {"groupId": [f"Must belong to the product's organization ({organization_id})."]}
            )
        serial = attrs.get("serial_number")
        if serial is not None:
            taken = Product.objects.filter(organization_id=organization_id, serial_number=serial)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise serializers.ValidationError(
                    {"serialNumber": ["A product with this serial number exists already."]}
                )
        return attrs


@extend_schema_serializer(component_name="VoltStorageComponent")
class ComponentSerializer(serializers.ModelSerializer):
    productId = serializers.IntegerField(source="product_id", read_only=True)
    serialNumber = serializers.CharField(
        source="serial_number", max_length=100, required=False, allow_blank=True
    )
    createdAt = MillisecondsDateTimeField(source="created_at", read_only=True)
    updatedAt = MillisecondsDateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Component
        fields = ["id", "productId", "name", "kind", "serialNumber", "createdAt", "updatedAt"]


@extend_schema_serializer(component_name="VoltStorageLogin")
class LoginBodySerializer(serializers.Serializer):
    """The login's body, for the documentation (the login serializer is core's)."""

    email = serializers.EmailField(help_text="E-mail address; any case.")
    password = serializers.CharField(help_text="The password; never stored.")
    validity = serializers.IntegerField(
        min_value=0,
        max_value=31_622_400,
        default=86_400,
        help_text="Seconds the token is valid for (default one day, at most 366 days; 0 gives "
        "a token that has already expired).",
    )
