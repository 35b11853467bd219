"""Organization scoping and role checks, shared by every app (the access policies that
viewsets declare are in ``core.access``).

The rules: reading needs any role in the object's organization, creating and updating need
member or owner, deleting needs owner; staff may do everything. Objects of organizations the
user is not in are filtered out of querysets, so they answer 404 exactly like missing ones.
A role too low inside one's own organization answers 403. An ``organization`` or foreign key
in a request body outside the user's organizations is a 400 on that field.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from rest_framework import permissions, serializers

from core.models import Membership, Organization
from core.prepared import PreparedQuery

Role = Membership.Role

#: A user's ``(organization_id, role)`` pairs, by a query compiled once (``core.prepared``).
MEMBERSHIPS = PreparedQuery(
    lambda user_id: Membership.objects.filter(user_id=user_id).values_list(
        "organization_id", "role"
    )
)

# Minimum role per HTTP method; views may override with ``required_roles``.
DEFAULT_REQUIRED_ROLES: dict[str, str] = {
    "GET": Role.VIEWER,
    "HEAD": Role.VIEWER,
    "OPTIONS": Role.VIEWER,
    "POST": Role.MEMBER,
    "PUT": Role.MEMBER,
    "PATCH": Role.MEMBER,
    "DELETE": Role.OWNER,
}


def organization_roles(request) -> dict[int, str]:
    """The user's ``{organization_id: role}``, read once per request and cached on it."""
    django_request = getattr(request, "_request", request)
    roles = getattr(django_request, "_organization_roles", None)
    if roles is None:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        roles = dict(MEMBERSHIPS.rows(user.pk)) if signed_in else {}
        django_request._organization_roles = roles
    return roles


def is_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def has_role(request, organization_id: int | None, required: str) -> bool:
    """Whether the requesting user holds at least ``required`` in the organization."""
    if is_staff(request):
        return True
    role = organization_roles(request).get(organization_id)
    return Membership.rank(role) >= Membership.rank(required)


def memberships_of(request) -> QuerySet:
    """The organization ids of the requesting user's memberships, as a subquery."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return Membership.objects.filter(user_id=user_id).values("organization_id")


def scope_queryset(queryset: QuerySet, request, organization_field: str) -> QuerySet:
    """Limit ``queryset`` to the organizations of the requesting user (staff see all).

    When the user's roles have not been read yet in this request, the memberships go into
    the query as a subquery rather than costing a round trip of their own."""
    if is_staff(request):
        return queryset
    lookup = f"{organization_field}__in" if organization_field else "pk__in"
    django_request = getattr(request, "_request", request)
    roles = getattr(django_request, "_organization_roles", None)
    if roles is not None:
        return queryset.filter(**{lookup: list(roles)})
    return queryset.filter(**{lookup: memberships_of(request)})


def organization_id_of(obj: Model, organization_field: str = "organization") -> int | None:
    """The id of the organization an object belongs to, following ``organization_field``."""
    if isinstance(obj, Organization):
        return obj.pk
    *path, last = organization_field.split("__")
    for name in path:
        obj = getattr(obj, name)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


class HasOrganizationRole(permissions.BasePermission):
    """Object-level role check: the user's role in the object's organization must reach the
    role the view requires for the method (``required_roles``)."""

    message = "Your role in this organization does not allow this action."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        required = view.get_required_role(request.method)
        organization_id = organization_id_of(obj, view.organization_field)
        return has_role(request, organization_id, required)


class OrganizationScopedSerializerMixin:
    """Restricts ``organization`` and every foreign key to the user's organizations, requires
    foreign keys to point within the object's own organization, and freezes ``organization``
    after create. The request comes from the serializer context."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or is_staff(request):
            return fields
        for field in fields.values():
            relation = getattr(field, "child_relation", field)
            queryset = getattr(relation, "queryset", None)
            if queryset is None or getattr(relation, "read_only", False):
                continue
            if queryset.model is Organization or _belongs_to_organizations(queryset.model):
                relation.queryset = scope_queryset(
                    queryset, request, organization_path(queryset.model)
                )
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = getattr(self, "instance", None)
        path = organization_path(self.Meta.model)
        head, _, rest = path.partition("__")
        organization_id = self._organization_id(attrs, instance, head, rest)
        if instance is not None and organization_id is not None:
            current = organization_id_of(instance, path)
            if current is not None and organization_id != current:
                message = (
                    "The organization cannot be changed after create."
                    if head == "organization"
                    else f"Must belong to the same organization ({current}) as this object."
                )
                raise serializers.ValidationError({head: [message]})
        if organization_id is None:
            return attrs
        errors = {}
        for name, value in attrs.items():
            if name == head:
                continue
            related = value if isinstance(value, list | tuple) else [value]
            for obj in related:
                if not isinstance(obj, Model) or not _belongs_to_organizations(type(obj)):
                    continue
                if organization_id_of(obj, organization_path(type(obj))) != organization_id:
                    errors[name] = [
                        f"Must belong to the same organization ({organization_id}) as this object."
                    ]
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _organization_id(attrs, instance, head: str, rest: str) -> int | None:
        """The organization the validated body puts the object in: its ``organization``, or
        the organization of the related object its organization path starts with; the
        instance's own when the body names neither."""
        value = attrs.get(head) if head else None
        if isinstance(value, Organization):
            return value.pk
        if isinstance(value, Model):
            return organization_id_of(value, rest or organization_path(type(value)))
        if instance is not None and head:
            return organization_id_of(instance, "__".join(filter(None, (head, rest))))
        return None


def organization_path(model: type[Model]) -> str:
    """The lookup path from ``model`` to its organization; ``""`` for Organization itself."""
    if model is Organization:
        return ""
    return getattr(model, "organization_field", "organization")


def _belongs_to_organizations(model: type[Model]) -> bool:
    """Tenant models declare ``organization_field``, the path to their organization."""
    return model is not Organization and hasattr(model, "organization_field")
