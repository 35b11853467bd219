"""Web pages for people: sign up, profile, personal API keys, organizations and members.

Writes go through ``core.services``; the rules of the API apply here too: organizations you
are not in answer 404 (staff see all), member management needs the owner role (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from core import services
from core.authentication import API_KEY_KEYWORD
from core.forms import (
    APIKeyCreateForm,
    MemberAddForm,
    MemberRoleForm,
    OrganizationForm,
    ProfileForm,
    SignUpForm,
)
from core.models import Membership, Organization, UserAPIKey
from core.tenancy import Role, has_role, is_staff, organization_roles, scope_queryset


def _error_messages(exc: ValidationError) -> list[str]:
    """The plain-text messages inside a DRF ``ValidationError``, however nested."""

    def flatten(detail) -> list[str]:
        if isinstance(detail, dict):
            return [text for value in detail.values() for text in flatten(value)]
        if isinstance(detail, list | tuple):
            return [text for value in detail for text in flatten(value)]
        return [str(detail)]

    return flatten(exc.detail)


def _user_memberships(user):
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .annotate(member_count=Count("organization__memberships"))
        .order_by("organization__name", "organization_id")
    )


# --- Account ---------------------------------------------------------------------------------


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log in with it."""
    if request.user.is_authenticated:
        return redirect("profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="core.backends.UsernameOrEmailBackend")
        messages.success(request, f"Welcome, {user.username}! Your account is ready.")
        return redirect("profile")
    return render(request, "core/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Your account: names and email (editable) and the organizations you are in."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile has been saved.")
        return redirect("profile")
    return render(
        request,
        "core/profile.html",
        {"form": form, "memberships": _user_memberships(request.user)},
    )


# --- API keys --------------------------------------------------------------------------------


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """Your personal API keys; a POST creates one and shows it, once, in this response."""
    form = APIKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, key = services.api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expiry_date=form.cleaned_data["expiry_date"],
            )
        except ValidationError as exc:
            for text in _error_messages(exc):
                form.add_error("expiry_date", text)
        else:
            # The key is rendered straight into this response and kept nowhere else: not in
            # the session, not in a message, not in any cache on the way.
            base = request.build_absolute_uri(reverse("organization-list"))
            response = render(
                request,
                "core/api_key_created.html",
                {
                    "api_key": api_key,
                    "key": key,
                    "curl_command": (
                        f"curl --header 'Authorization: {API_KEY_KEYWORD} {key}' {base}"
                    ),
                },
            )
            add_never_cache_headers(response)
            return response
    keys = UserAPIKey.objects.filter(user=request.user).order_by("-created")
    return render(request, "core/api_keys.html", {"form": form, "keys": keys})


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    """Revoke one of your own keys; anyone else's key is a 404."""
    api_key = get_object_or_404(UserAPIKey, prefix=prefix, user=request.user)
    if api_key.revoked:
        messages.info(request, f"The API key “{api_key.name}” was already revoked.")
    else:
        services.api_key_revoke(api_key=api_key)
        messages.success(request, f"The API key “{api_key.name}” has been revoked.")
    return redirect("api_keys")


# --- Organizations ---------------------------------------------------------------------------


@login_required
def organizations(request: HttpRequest) -> HttpResponse:
    """The organizations you are in, with your role; a POST creates one with you as owner."""
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(
            name=form.cleaned_data["name"], owner=request.user
        )
        messages.success(request, f"Organization “{organization.name}” created. You are its owner.")
        return redirect("organization_detail", pk=organization.pk)
    return render(
        request,
        "core/organizations.html",
        {"form": form, "memberships": _user_memberships(request.user)},
    )


def _organization_for(request: HttpRequest, pk: int) -> Organization:
    """The organization if the user is in it (staff: any), else 404."""
    return get_object_or_404(scope_queryset(Organization.objects.all(), request, ""), pk=pk)


def _owned_organization_for(request: HttpRequest, pk: int) -> Organization:
    """The organization if the user owns it (or is staff); 404 outside it, 403 for a lower role."""
    organization = _organization_for(request, pk)
    if not has_role(request, organization.pk, Role.OWNER):
        raise PermissionDenied("Only owners can manage members.")
    return organization


def _render_organization(
    request: HttpRequest, organization: Organization, add_form: MemberAddForm | None = None
) -> HttpResponse:
    memberships = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username", "user_id")
    )
    return render(
        request,
        "core/organization_detail.html",
        {
            "organization": organization,
            "memberships": memberships,
            "role": organization_roles(request).get(organization.pk),
            "can_manage": has_role(request, organization.pk, Role.OWNER),
            "add_form": add_form or MemberAddForm(),
            "role_choices": Membership.Role.choices,
        },
    )


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Members of an organization; owners also get the forms to manage them."""
    return _render_organization(request, _organization_for(request, pk))


@login_required
@require_POST
def organization_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an existing user by email with a role (owners)."""
    organization = _owned_organization_for(request, pk)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return _render_organization(request, organization, add_form=form)
    try:
        membership = services.membership_add(
            organization=organization, user=form.user, role=form.cleaned_data["role"]
        )
    except ValidationError as exc:
        for text in _error_messages(exc):
            messages.error(request, text)
    else:
        messages.success(
            request,
            f"{membership.user.username} added as {membership.get_role_display().lower()}.",
        )
    return redirect("organization_detail", pk=organization.pk)


def _membership_in(organization: Organization, user_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"),
        organization=organization,
        user_id=user_id,
    )


@login_required
@require_POST
def organization_member_role(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Change a member's role (owners); demoting the last owner is refused."""
    organization = _owned_organization_for(request, pk)
    membership = _membership_in(organization, user_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles owner, member or viewer.")
        return redirect("organization_detail", pk=organization.pk)
    try:
        services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        for text in _error_messages(exc):
            messages.error(request, text)
    else:
        messages.success(
            request,
            f"{membership.user.username} is now {membership.get_role_display().lower()}.",
        )
    return redirect("organization_detail", pk=organization.pk)


@login_required
@require_POST
def organization_member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Remove a member (owners); removing the last owner is refused."""
    organization = _owned_organization_for(request, pk)
    membership = _membership_in(organization, user_id)
    try:
        services.membership_remove(membership=membership)
    except ValidationError as exc:
        for text in _error_messages(exc):
            messages.error(request, text)
        return redirect("organization_detail", pk=organization.pk)
    messages.success(request, f"{membership.user.username} removed from {organization.name}.")
    if membership.user_id == request.user.pk and not is_staff(request):
        # You left: the organization's page is no longer yours to see.
        return redirect("organizations")
    return redirect("organization_detail", pk=organization.pk)
