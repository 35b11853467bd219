"""The viewset base of organization-owned resources: scoping, roles, atomic and bulk writes."""

from __future__ import annotations

from django.db import transaction
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.access import AccessControlledViewSetMixin

DEFAULT_BULK_MAX_ITEMS = 1000


def prefers_minimal(request) -> bool:
    """Whether the client sent ``Prefer: return=minimal`` (RFC 7240)."""
    header = request.headers.get("Prefer", "")
    preferences = {part.strip().lower().replace(" ", "") for part in header.split(",")}
    return "return=minimal" in preferences


def indexed_errors(errors) -> dict:
    """A many=True serializer's errors as ``{"<index>": errors}`` for bad items only.

    DRF >= 3.18 reports them as a dict keyed by the integer index (a list before); JSON
    object keys must be strings.
    """
    if isinstance(errors, list):
        return {str(index): item for index, item in enumerate(errors) if item}
    if isinstance(errors, dict):
        return {str(key): item for key, item in errors.items() if item}
    return errors


def ensure_renderable(response: Response) -> None:
    """Encode the answer's data as the JSON renderer will; raises if it cannot be."""
    if response.data is not None:
        ORJSONRenderer().render(response.data)


class BulkCreateMixin:
    """POST of a JSON list creates every item in one transaction, or nothing.

    The answer is 201 with the created objects, or ``{"created": n}`` when the client sends
    ``Prefer: return=minimal``. Any bad item makes a 400 whose errors are keyed by the item's
    index. At most ``bulk_max_items`` items per request.
    """

    bulk_max_items = DEFAULT_BULK_MAX_ITEMS

    def create(self, request, *args, **kwargs):
        if hasattr(self, "check_create_allowed"):
            self.check_create_allowed()  # before validating: no user with no role learns more
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        items = request.data
        if not items:
            raise ValidationError({"non_field_errors": ["Expected a non-empty list of items."]})
        if len(items) > self.bulk_max_items:
            raise ValidationError(
                {
                    "non_field_errors": [
                        f"At most {self.bulk_max_items} items per request; got {len(items)}."
                    ]
                }
            )
        serializer = self.get_serializer(data=items, many=True)
        if not serializer.is_valid():
            raise ValidationError(indexed_errors(serializer.errors))
        self.perform_create(serializer)
        if prefers_minimal(request):
            return Response(
                {"created": len(items)},
                status=status.HTTP_201_CREATED,
                headers={"Preference-Applied": "return=minimal"},
            )
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class OrganizationScopedModelViewSet(
    AccessControlledViewSetMixin, BulkCreateMixin, viewsets.ModelViewSet
):
    """CRUD on objects that belong to an organization, with every write in one transaction.

    A create or update commits only once its answer has been rendered: an object that could
    be stored but not rendered back (the case input limits exist to prevent) is not stored.
    """

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().create(request, *args, **kwargs)
            ensure_renderable(response)
        return response

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().update(request, *args, **kwargs)
            ensure_renderable(response)
        return response

    def perform_create(self, serializer):
        with transaction.atomic():
            super().perform_create(serializer)

    def perform_update(self, serializer):
        with transaction.atomic():
            super().perform_update(serializer)

    def perform_destroy(self, instance):
        with transaction.atomic():
            instance.delete()
