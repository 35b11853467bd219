"""The platform's API views: organizations, members, users, tokens and health."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from core import services, tokens
from core.broadcast import counters as broadcast_counters
from core.models import Membership, Organization, User
from core.serializers import (
    CurrentUserSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    OrganizationSerializer,
    UserSerializer,
)
from core.tenancy import (
    HasOrganizationRole,
    Role,
    has_role,
    is_staff,
    organization_roles,
    scope_queryset,
)
from core.throttling import TokenRefreshRateThrottle


@extend_schema_view(
    list=extend_schema(summary="Organizations you belong to"),
    create=extend_schema(summary="Create an organization; you become owner"),
    update=extend_schema(summary="Rename (owners)"),
    partial_update=extend_schema(summary="Rename (owners)"),
    destroy=extend_schema(summary="Delete with all its data (owners)"),
)
class OrganizationViewSet(viewsets.ModelViewSet):
    """Organizations: any member reads, owners rename and delete, anyone may create one."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    permission_classes = [HasOrganizationRole]
    organization_field = ""
    required_roles = {
        "GET": Role.VIEWER,
        "HEAD": Role.VIEWER,
        "OPTIONS": Role.VIEWER,
        "PUT": Role.OWNER,
        "PATCH": Role.OWNER,
        "DELETE": Role.OWNER,
    }
    filterset_fields = {"name": ["exact", "icontains"]}
    ordering_fields = ["id", "name", "created_at"]

    def get_required_role(self, method: str) -> str:
        return self.required_roles.get(method, Role.OWNER)

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request, "")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": organization_roles(self.request)}

    def perform_create(self, serializer):
        serializer.instance = services.organization_create(
            name=serializer.validated_data["name"], owner=self.request.user
        )
        organization_roles(self.request)[serializer.instance.pk] = Role.OWNER

    def perform_destroy(self, instance):
        services.organization_delete(organization=instance)


@extend_schema_view(
    list=extend_schema(summary="Members of an organization"),
    create=extend_schema(summary="Add a user by email (owners)"),
    partial_update=extend_schema(summary="Change a role (owners)"),
    destroy=extend_schema(
        summary="Remove a member (owners, or yourself)",
        responses={
            204: None,
            400: OpenApiResponse(description="The last owner cannot leave or be removed."),
        },
    ),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of one organization. Members read; owners add, change and remove; any member
    may leave. The last owner cannot be removed or demoted."""

    serializer_class = MembershipSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "user_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["role"]
    ordering_fields = ["user_id", "role", "created_at"]
    ordering = ["user_id"]
    pagination_class = None

    def get_organization(self) -> Organization:
        if not hasattr(self, "_organization"):
            queryset = scope_queryset(Organization.objects.all(), self.request, "")
            self._organization = get_object_or_404(queryset, pk=self.kwargs["organization_pk"])
        return self._organization

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.filter(organization=self.get_organization())
            .select_related("user")
            .order_by("user_id")
        )

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return MembershipUpdateSerializer
        return MembershipSerializer

    def check_owner(self) -> None:
        if not has_role(self.request, self.get_organization().pk, Role.OWNER):
            self.permission_denied(self.request, message="Only owners can manage members.")

    def create(self, request, *args, **kwargs):
        # The organization (404) and the role (403) before the body: whether an email has an
        # account is no business of anyone but the organization's owners.
        self.check_owner()
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        user = User.objects.get(email__iexact=serializer.validated_data["user"]["email"])
        serializer.instance = services.membership_add(
            organization=self.get_organization(),
            user=user,
            role=serializer.validated_data.get("role", Role.MEMBER),
        )

    def update(self, request, *args, **kwargs):
        self.check_owner()
        membership = self.get_object()
        serializer = self.get_serializer(membership, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.membership_change_role(
            membership=membership, role=serializer.validated_data.get("role", membership.role)
        )
        return Response(
            MembershipSerializer(membership, context=self.get_serializer_context()).data
        )

    def perform_destroy(self, instance):
        if instance.user_id != self.request.user.pk:
            self.check_owner()
        services.membership_remove(membership=instance)


@extend_schema_view(
    list=extend_schema(summary="Users who share an organization with you"),
)
class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users who share an organization with you (staff see all); ``me`` is yourself.

    A user's ``organizations`` are those the reader shares with them (all of them for staff):
    a co-member's other organizations are not the reader's business."""

    serializer_class = UserSerializer
    filterset_fields = {"username": ["exact"], "email": ["iexact"]}
    ordering_fields = ["id", "username", "email"]

    def get_queryset(self):
        memberships = Membership.objects.only("user_id", "organization_id")
        queryset = User.objects.filter(is_active=True)
        if is_staff(self.request):
            return queryset.prefetch_related(Prefetch("memberships", queryset=memberships))
        readers_organizations = list(organization_roles(self.request))
        shared = Membership.objects.filter(organization_id__in=readers_organizations)
        return queryset.filter(
            Q(pk__in=shared.values("user_id")) | Q(pk=self.request.user.pk)
        ).prefetch_related(
            Prefetch(
                "memberships",
                queryset=memberships.filter(organization_id__in=readers_organizations),
            )
        )

    @extend_schema(responses=CurrentUserSerializer)
    @action(detail=False, methods=["get", "patch"], serializer_class=CurrentUserSerializer)
    def me(self, request):
        """Your own account; PATCH changes names and email."""
        user = User.objects.prefetch_related("memberships").get(pk=request.user.pk)
        if request.method == "GET":
            return Response(CurrentUserSerializer(user).data)
        serializer = CurrentUserSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


# The platform's token endpoints. An API's own login and refresh endpoints subclass these
# views with a serializer of core.tokens that declares the API's token class; AccessTokenObtainView
# is the base of a login that answers one access token (VoltStorage's).


class TokenObtainPairView(jwt_views.TokenObtainPairView):
    """Exchange a username or email and a password for an access and a refresh JWT.

    Failed attempts lock the account and address for a while (429 with ``Retry-After``)."""

    serializer_class = tokens.TokenObtainPairSerializer


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh JWT for a new access JWT and, where tokens rotate, a new refresh JWT:
    each refresh token is then used once. Limited per client address (429)."""

    serializer_class = tokens.TokenRefreshSerializer
    throttle_classes = [TokenRefreshRateThrottle]


class AccessTokenObtainView(jwt_views.TokenViewBase):
    """Exchange credentials for one access JWT, valid for as long as asked.

    Failed attempts lock the account and address for a while (429 with ``Retry-After``)."""

    serializer_class = tokens.AccessTokenObtainSerializer


class TokenRevokeView(APIView):
    """Log out everywhere: ends every JWT issued to you, access and refresh tokens of every
    API, at once.

    Any credential may ask (a JWT, an API key, the session with its CSRF token). API keys and
    sessions are not tokens and stay valid: revoke a key on its own."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Log out everywhere: revoke every JWT of yours",
        request=None,
        responses={204: None},
    )
    def post(self, request):
        tokens.user_tokens_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _health_checks() -> dict[str, str]:
    """``{"database": "ok" | "down", "redis": "ok" | "down"}`` (``redis`` only when configured)."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    if settings.REDIS_URL:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "down"
        finally:
            client.close()
    return checks


def _health_response(checks: dict[str, str], *, healthy: bool) -> JsonResponse:
    everything = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {
            "status": "ok" if everything else "degraded" if healthy else "unavailable",
            "checks": checks,
            # This process's broadcasts since it started (core.broadcast).
            "broadcasts": broadcast_counters.snapshot(),
        },
        status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def healthz(request):
    """Liveness: 200 while the database answers, since writes then work; 503 when it does not.

    Redis down is reported (``"redis": "down"``, status ``degraded``) but keeps the 200: writes
    are still stored, their broadcasts are counted as failed and throttles count per process.
    The answer also carries this process's broadcast counters (sent, failed, dropped)."""
    checks = _health_checks()
    return _health_response(checks, healthy=checks["database"] == "ok")


def healthz_ready(request):
    """Readiness, the strict check: 503 unless the database and Redis (when configured) both
    answer, for a server whose work needs Redis (the WebSocket service)."""
    checks = _health_checks()
    return _health_response(checks, healthy=all(state == "ok" for state in checks.values()))
