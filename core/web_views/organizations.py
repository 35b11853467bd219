"""Organizations and their members: create, profile, add, change roles, remove (confirmed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from rest_framework.exceptions import ValidationError

from core import services
from core.forms import (
    MemberAddForm,
    MemberRoleForm,
    OrganizationForm,
    OrganizationProfileForm,
)
from core.models import Membership, Organization
from core.tenancy import Role, has_role, is_staff, organization_roles, scope_queryset
from core.web_views.common import error_messages, user_memberships
from core.web_views.errors import require_methods, require_POST

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
        {"form": form, "memberships": user_memberships(request.user)},
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
    request: HttpRequest,
    organization: Organization,
    add_form: MemberAddForm | None = None,
    profile_form: OrganizationProfileForm | None = None,
) -> HttpResponse:
    memberships = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username", "user_id")
    )
    can_manage = has_role(request, organization.pk, Role.OWNER)
    if profile_form is None and can_manage:
        profile_form = OrganizationProfileForm(instance=organization)
    return render(
        request,
        "core/organization_detail.html",
        {
            "organization": organization,
            "memberships": memberships,
            "role": organization_roles(request).get(organization.pk),
            "can_manage": can_manage,
            "add_form": add_form or MemberAddForm(),
            "profile_form": profile_form,
            "role_choices": Membership.Role.choices,
        },
    )


@login_required
@require_methods("GET", "HEAD", "POST")
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Members of an organization and its profile (address and contact, the manufacturer
    information of its battery passports); owners also get the forms to manage both, and
    POST the profile form here (403 for a lower role)."""
    organization = _organization_for(request, pk)
    if request.method != "POST":
        return _render_organization(request, organization)
    if not has_role(request, organization.pk, Role.OWNER):
        raise PermissionDenied("Only owners can change the organization's profile.")
    form = OrganizationProfileForm(request.POST, instance=organization)
    if not form.is_valid():
        organization.refresh_from_db()
        return _render_organization(request, organization, profile_form=form)
    form.save()
    messages.success(request, "Profile saved.")
    return redirect("organization_detail", pk=organization.pk)


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
        for text in error_messages(exc):
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
        for text in error_messages(exc):
            messages.error(request, text)
    else:
        messages.success(
            request,
            f"{membership.user.username} is now {membership.get_role_display().lower()}.",
        )
    return redirect("organization_detail", pk=organization.pk)


@login_required
@require_methods("GET", "HEAD", "POST")
def organization_member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Remove a member (owners, POST); a GET asks for confirmation. Removing the last owner
    is refused."""
    organization = _owned_organization_for(request, pk)
    membership = _membership_in(organization, user_id)
    if request.method != "POST":
        return render(
            request,
            "core/organization_member_remove_confirm.html",
            {
                "organization": organization,
                "membership": membership,
                "is_self": membership.user_id == request.user.pk,
            },
        )
    try:
        services.membership_remove(membership=membership)
    except ValidationError as exc:
        for text in error_messages(exc):
            messages.error(request, text)
        return redirect("organization_detail", pk=organization.pk)
    messages.success(request, f"{membership.user.username} removed from {organization.name}.")
    if membership.user_id == request.user.pk and not is_staff(request):
        # You left: the organization's page is no longer yours to see.
        return redirect("organizations")
    return redirect("organization_detail", pk=organization.pk)
