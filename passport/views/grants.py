"""The access classes a passport's organization grants."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.openapi import PAGE_HEADERS
from core.parsers import ORJSONParser
from core.tenancy import Role, has_role
from passport import services
from passport.definitions import ID_FIELD
from passport.models import Passport
from passport.openapi import PAGE_PARAMETERS, PassportAutoSchema
from passport.pagination import Page
from passport.serializers import PassportGrantListSerializer, PassportGrantSerializer


class PassportGrantViewSet(viewsets.GenericViewSet):
    """The access classes a passport's organization gives users: its members read them,
    members (member role) give and take them. ``validUntil`` is inclusive, in UTC."""

    permission_classes = [IsAuthenticated]
    parser_classes = [ORJSONParser]
    serializer_class = PassportGrantSerializer
    pagination_class = None
    filter_backends: list = []
    schema = PassportAutoSchema()
    queryset = Passport.objects.none()

    def passport(self, role: str) -> Passport:
        passport = get_object_or_404(Passport, battery_id=self.kwargs[ID_FIELD])
        if not has_role(self.request, passport.organization_id, role):
            raise PermissionDenied(
                "Only members of the passport's organization see and change its grants "
                f"(the {role} role at least)."
            )
        return passport

    @extend_schema(
        summary="Get the access grants of a batteryPass",
        parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS],
        responses={
            200: PassportGrantListSerializer,
            403: OpenApiResponse(description="Not a member of the passport's organization."),
        },
    )
    def list(self, request, *args, **kwargs):
        passport = self.passport(Role.VIEWER)
        page = Page(request, passport.grants.select_related("user").order_by("id"))
        data = PassportGrantSerializer(page.items, many=True).data
        return Response({"data": data}, headers=page.headers())

    @extend_schema(
        summary="Grant a user an access class on a batteryPass",
        request=PassportGrantSerializer,
        responses={
            201: PassportGrantSerializer,
            403: OpenApiResponse(description="Not a member (member role) of the organization."),
            409: OpenApiResponse(description="The user already holds this class."),
        },
    )
    def create(self, request, *args, **kwargs):
        passport = self.passport(Role.MEMBER)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        serializer = PassportGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_create(
            passport=passport,
            user=serializer.validated_data["email"],
            access=serializer.validated_data["access"],
            valid_until=serializer.validated_data.get("valid_until"),
            created_by=request.user,
        )
        return Response(PassportGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw an access grant",
        parameters=[OpenApiParameter("grant_id", int, OpenApiParameter.PATH)],
        responses={
            204: None,
            403: OpenApiResponse(description="Not a member (member role) of the organization."),
        },
    )
    def destroy(self, request, *args, **kwargs):
        passport = self.passport(Role.MEMBER)
        grant = get_object_or_404(passport.grants, pk=self.kwargs["grant_id"])
        services.grant_delete(grant=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)
