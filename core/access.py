"""Who may see and change what: access policies that viewsets declare.

A viewset declares one :class:`AccessPolicy`; the policy filters the queryset to the objects
the requesting user may see (everything else answers 404, exactly like a missing object),
checks the role needed to create in an organization, and answers 403 for a visible object the
user may not change. Staff see and may do everything. The pieces:

* **readers** (:class:`Audience`), any of which makes an object visible, combined into one
  ``WHERE`` clause (one query, whatever their number):

  - :class:`Members`: members (any role) of the object's organization;
  - :class:`UserField`: the user a foreign key names (``owner``, ``group__owner``);
  - :class:`Granted`: users holding an active grant on the object (a related model with a user);
  - :class:`Anyone`: everybody, without credentials too, for safe methods only (public reads;
    the response is then trimmed by the view to what the reader may see).

* **editors** (:class:`EditRule`) for update and delete: :class:`RoleAtLeast` (a role in the
  object's organization) or :class:`CreatorOrRole` (the user a field names, or a role).

* **create**: the role needed in the organization the new object belongs to, wherever its
  organization is reached (``organization``, or a path such as ``passport__organization``:
  then through the related object named in the body). A user with no membership creates
  nothing that belongs to an organization.

Example declarations::

    access = AccessPolicy()  # BatteryDB: members read, members write, owners delete
    access = AccessPolicy(readers=[Members(), UserField("owner"), UserField("group__owner")])
    access = AccessPolicy(
        organization="project__organization",
        update=CreatorOrRole("user", Role.OWNER),
        delete=CreatorOrRole("user", Role.OWNER),
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from rest_framework import exceptions, permissions

from core.models import Membership, Organization
from core.tenancy import (
    HasOrganizationRole,
    Role,
    has_role,
    is_staff,
    memberships_of,
    organization_id_of,
    organization_roles,
)

SAFE_METHODS = permissions.SAFE_METHODS
NOTHING = Q(pk__in=[])


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# --- readers ---------------------------------------------------------------------------------
class Audience:
    """A group of readers of an object. ``condition`` is the ``Q`` selecting the objects of
    ``model`` that the request's user (or an anonymous request) may see through it."""

    #: Whether this audience also admits anonymous requests (for safe methods).
    anonymous = False

    def condition(self, request, model: type[Model], policy: AccessPolicy) -> Q:
        raise NotImplementedError

    def admits(self, request, obj: Model, policy: AccessPolicy) -> bool:
        """Whether the request's user reads ``obj`` through this audience (object checks)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Members(Audience):
    """Members, with any role, of the object's organization."""

    def condition(self, request, model, policy) -> Q:
        if _user(request) is None:
            return NOTHING
        lookup = f"{policy.organization}__in" if policy.organization else "pk__in"
        roles = getattr(getattr(request, "_request", request), "_organization_roles", None)
        if roles is not None:
            return Q(**{lookup: list(roles)})
        return Q(**{lookup: memberships_of(request)})

    def admits(self, request, obj, policy) -> bool:
        return organization_id_of(obj, policy.organization) in organization_roles(request)


@dataclass(frozen=True)
class UserField(Audience):
    """The user a foreign key of the object names, following a path (``group__owner``)."""

    path: str

    def condition(self, request, model, policy) -> Q:
        user = _user(request)
        return Q(**{self.path: user.pk}) if user is not None else NOTHING

    def admits(self, request, obj, policy) -> bool:
        user = _user(request)
        if user is None:
            return False
        *path, last = self.path.split("__")
        for name in path:
            obj = getattr(obj, name)
            if obj is None:
                return False
        return getattr(obj, f"{last}_id") == user.pk


@dataclass(frozen=True)
class Granted(Audience):
    """Users holding an active grant on the object: ``relation`` is the reverse relation to a
    grant model with a ``user`` foreign key; ``active`` filters the grants still in force."""

    relation: str
    user_field: str = "user"
    active: Q = field(default_factory=Q)

    def grants(self, model: type[Model], user) -> tuple[QuerySet, str]:
        """The user's active grants, and the name of their foreign key to ``model``."""
        related = model._meta.get_field(self.relation)
        grants = related.related_model._default_manager.filter(
            self.active, **{self.user_field: user}
        )
        return grants, related.field.name

    def condition(self, request, model, policy) -> Q:
        user = _user(request)
        if user is None:
            return NOTHING
        grants, link = self.grants(model, user)
        return Q(Exists(grants.filter(**{link: OuterRef("pk")})))

    def admits(self, request, obj, policy) -> bool:
        user = _user(request)
        if user is None:
            return False
        grants, link = self.grants(type(obj), user)
        return grants.filter(**{link: obj.pk}).exists()


@dataclass(frozen=True)
class Anyone(Audience):
    """Everybody, without credentials too: safe methods only (public reads)."""

    anonymous = True

    def condition(self, request, model, policy) -> Q:
        return Q()

    def admits(self, request, obj, policy) -> bool:
        return True


# --- editors ---------------------------------------------------------------------------------
class EditRule:
    """Who may change (or delete) a visible object."""

    def allows(self, request, obj: Model, policy: AccessPolicy) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class RoleAtLeast(EditRule):
    """At least ``role`` in the object's organization."""

    role: str

    def allows(self, request, obj, policy) -> bool:
        return has_role(request, organization_id_of(obj, policy.organization), self.role)


@dataclass(frozen=True)
class CreatorOrRole(EditRule):
    """The user the object's ``field`` names (its creator), if still a member of the
    object's organization, or at least ``role`` there."""

    field: str
    role: str = Role.OWNER

    def allows(self, request, obj, policy) -> bool:
        organization_id = organization_id_of(obj, policy.organization)
        if has_role(request, organization_id, self.role):
            return True
        user = _user(request)
        return (
            user is not None
            and getattr(obj, f"{self.field}_id") == user.pk
            and organization_id in organization_roles(request)
        )


# --- the policy ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessPolicy:
    """The access rules of one viewset; see the module's docstring."""

    organization: str = "organization"
    readers: Sequence[Audience] = (Members(),)
    create: str = Role.MEMBER
    update: EditRule = RoleAtLeast(Role.MEMBER)
    delete: EditRule = RoleAtLeast(Role.OWNER)

    @property
    def public(self) -> bool:
        """Whether anonymous requests may read (safe methods)."""
        return any(reader.anonymous for reader in self.readers)

    def visible(self, queryset: QuerySet, request) -> QuerySet:
        """The objects of ``queryset`` the request may see, in one query, whatever the method:
        a visible object the user may not change answers 403, not 404 (anonymous writes never
        get here: they are 401)."""
        if is_staff(request):
            return queryset
        condition = NOTHING
        for reader in self.readers:
            part = reader.condition(request, queryset.model, self)
            if part == Q():
                return queryset
            condition |= part
        return queryset.filter(condition)

    def reads_through(self, request, obj: Model) -> list[Audience]:
        """The audiences through which the request's user reads ``obj`` (staff: all)."""
        if is_staff(request):
            return list(self.readers)
        return [reader for reader in self.readers if reader.admits(request, obj, self)]

    def may_change(self, request, obj: Model, method: str) -> bool:
        if is_staff(request):
            return True
        rule = self.delete if method == "DELETE" else self.update
        return rule.allows(request, obj, self)

    def check_create(self, request, organization_ids: Iterable[int | None]) -> None:
        """403 unless the user holds the create role in each organization (and in one at
        least: a user with no membership creates nothing that belongs to an organization)."""
        if is_staff(request):
            return
        needed = Membership.rank(self.create)
        if not any(Membership.rank(r) >= needed for r in organization_roles(request).values()):
            raise exceptions.PermissionDenied(
                f"Creating this needs the {self.create} role in an organization."
            )
        for organization_id in organization_ids:
            if not has_role(request, organization_id, self.create):
                raise exceptions.PermissionDenied(HasOrganizationRole.message)

    def organization_id_in(self, data: dict, instance: Model | None = None) -> int | None:
        """The organization a validated body puts the object in: ``organization`` itself, or
        the organization of the related object the path starts with (``passport`` for
        ``passport__organization``); the instance's when the body does not say."""
        if not self.organization:
            return None
        head, _, rest = self.organization.partition("__")
        value = data.get(head) if isinstance(data, dict) else None
        if value is None:
            return organization_id_of(instance, self.organization) if instance is not None else None
        if isinstance(value, Organization):
            return value.pk
        if isinstance(value, Model):
            return organization_id_of(value, rest or "organization")
        return value


class HasAccess(permissions.BasePermission):
    """Enforces the view's ``access`` policy: anonymous requests only where the policy is
    public (safe methods), 403 for a visible object the user may not change."""

    message = HasOrganizationRole.message

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        return request.method in SAFE_METHODS and view.access.public

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return view.access.may_change(request, obj, request.method)


def _items(validated) -> list:
    return validated if isinstance(validated, list) else [validated]


class AccessControlledViewSetMixin:
    """For viewsets of objects that belong to an organization: declare ``access``.

    Querysets are limited to what the user may see (404 beyond), object permissions answer
    403 for a visible object the user may not change, and creates check the create role in
    the organization the validated body puts each new object in; an update that moves an
    object under another related object (and so, through a path, another organization) needs
    the update role there too."""

    access: AccessPolicy = AccessPolicy()
    permission_classes = [HasAccess]

    def get_queryset(self):
        return self.access.visible(super().get_queryset(), self.request)

    def get_required_role(self, method: str) -> str:
        """The role a method needs in an organization (for views that check rows themselves)."""
        if method == "POST":
            return self.access.create
        rule = self.access.delete if method == "DELETE" else self.access.update
        return getattr(rule, "role", Role.OWNER)

    def check_create_allowed(self) -> None:
        """Refuse early (403) a writer who holds the create role in no organization."""
        self.access.check_create(self.request, [])

    def check_organization_role(self, organization_id: int | None, method: str) -> None:
        if not has_role(self.request, organization_id, self.get_required_role(method)):
            raise exceptions.PermissionDenied(HasOrganizationRole.message)

    def perform_create(self, serializer):
        organization_ids = {
            self.access.organization_id_in(item) for item in _items(serializer.validated_data)
        }
        self.access.check_create(self.request, organization_ids)
        serializer.save()

    def perform_update(self, serializer):
        instance = serializer.instance
        moved_to = self.access.organization_id_in(serializer.validated_data, instance)
        if moved_to != organization_id_of(instance, self.access.organization):
            self.check_organization_role(moved_to, self.request.method)
        serializer.save()
