"""Web pages for people: sign up, log in, passwords, profile, personal API keys, organizations
and members, and the site's error pages.

Writes go through ``core.services``; the rules of the API apply here too: organizations you
are not in answer 404 (staff see all), member management needs the owner role (403).
Destructive actions (revoking a key, removing a member) are a POST; a GET of the same URL is
the page that asks for confirmation.

Django's authentication views are used with the site's own templates (``core/auth/``),
named explicitly: the admin ships templates under the default ``registration/`` names, and
since the admin comes first in ``INSTALLED_APPS`` those would win.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
from pathlib import Path

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import condition
from rest_framework.exceptions import ValidationError

from core import services, tokens
from core.authentication import API_KEY_KEYWORD
from core.forms import (
    APIKeyCreateForm,
    LoginForm,
    MemberAddForm,
    MemberRoleForm,
    OrganizationForm,
    OrganizationProfileForm,
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


logger = logging.getLogger(__name__)


def _user_memberships(user):
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .annotate(member_count=Count("organization__memberships"))
        .order_by("organization__name", "organization_id")
    )


# --- Error pages -----------------------------------------------------------------------------
# Site pages with the navigation. Under the API prefixes core.middleware.JSONErrorMiddleware
# turns them into JSON.

ERROR_TEMPLATE = "core/error.html"


def _error_page(
    request: HttpRequest, status: int, title: str, message: str, detail: str = ""
) -> HttpResponse:
    context = {"status": status, "title": title, "message": message, "detail": detail}
    return render(request, ERROR_TEMPLATE, context, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 (``handler404``): the path asked for, not the internal reason."""
    return _error_page(
        request,
        404,
        "Page not found",
        f"There is no page at {request.path}, or it is not yours to see.",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 (``handler403``) with the reason the view gave, if any."""
    reason = str(exception) if exception is not None else ""
    return _error_page(
        request,
        403,
        "Not allowed",
        reason or "You do not have permission to do this.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form post that failed the CSRF check (``CSRF_FAILURE_VIEW``)."""
    return _error_page(
        request,
        403,
        "Form expired or not sent from this site",
        "The form could not be accepted. Go back, reload the page and send it again; "
        "cookies must be enabled for this site.",
        detail=reason,
    )


def method_not_allowed(request: HttpRequest, permitted_methods) -> HttpResponse:
    """405 with an ``Allow`` header, as a page instead of Django's empty body."""
    allowed = sorted({method.upper() for method in permitted_methods})
    response = _error_page(
        request,
        405,
        "Method not allowed",
        f"This address does not accept {request.method} requests.",
        detail=f"Allowed: {', '.join(allowed)}.",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """500 (``handler500``). Rendered without the request's context (no user, no database
    query), since whatever failed may fail again; a plain page if even that fails."""
    context = {
        "status": 500,
        "title": "Server error",
        "message": "Something went wrong on our side. The error has been logged; "
        "please try again later.",
    }
    try:
        content = render_to_string(ERROR_TEMPLATE, context)
    except Exception:
        logger.exception("The server error page could not be rendered")
        content = "<!doctype html><title>Server error</title><h1>Server error (500)</h1>"
    return HttpResponse(content, status=500)


def require_methods(*methods: str):
    """Like Django's ``require_http_methods``, answering the site's 405 page."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return method_not_allowed(request, methods)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


require_POST = require_methods("POST")


class SitePageMixin:
    """For class-based views: an unsupported method gets the site's 405 page."""

    def http_method_not_allowed(self, request, *args, **kwargs) -> HttpResponse:
        return method_not_allowed(request, self._allowed_methods())


# --- API docs ---------------------------------------------------------------------------------

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# Redoc's side menu shows Redocly's logo from their CDN. The docs make no request to a third
# party (and the Content-Security-Policy would refuse it): the image source is emptied, which
# Redoc handles by leaving the logo out. The link "API docs by Redocly" stays.
REDOC_THIRD_PARTY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> tuple[bytes, bytes, str]:
    """The Redoc bundle of drf-spectacular-sidecar without the logo, plain and gzipped, and its
    ETag; read once per process."""
    source = Path(finders.find(REDOC_BUNDLE)).read_bytes()
    body = source.replace(REDOC_THIRD_PARTY_LOGO, b"")
    return body, gzip.compress(body, mtime=0), f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@require_methods("GET", "HEAD")
@condition(etag_func=lambda request: _redoc_bundle()[2])
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    """Redoc's standalone script for ``/api/redoc/`` (see ``REDOC_THIRD_PARTY_LOGO``)."""
    body, compressed, _ = _redoc_bundle()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        compressed if gzipped else body, content_type="text/javascript; charset=utf-8"
    )
    if gzipped:
        response["Content-Encoding"] = "gzip"
    response["Cache-Control"] = "public, max-age=86400"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


# --- Log in, log out, passwords (Django's views, the site's templates) ------------------------


class LoginView(SitePageMixin, auth_views.LoginView):
    template_name = "core/auth/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(SitePageMixin, auth_views.LogoutView):
    """A POST only; redirects to ``LOGOUT_REDIRECT_URL`` (the login page)."""

    template_name = "core/auth/logged_out.html"


class PasswordChangeView(SitePageMixin, auth_views.PasswordChangeView):
    template_name = "core/auth/password_change_form.html"


class PasswordChangeDoneView(SitePageMixin, auth_views.PasswordChangeDoneView):
    template_name = "core/auth/password_change_done.html"


class PasswordResetView(SitePageMixin, auth_views.PasswordResetView):
    """Mails a one-time link to the active account with this email, if any; the answer is the
    same whether or not there is one, so that it does not tell who has an account."""

    template_name = "core/auth/password_reset_form.html"
    email_template_name = "core/auth/password_reset_email.txt"
    subject_template_name = "core/auth/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(SitePageMixin, auth_views.PasswordResetDoneView):
    template_name = "core/auth/password_reset_done.html"


class PasswordResetConfirmView(SitePageMixin, auth_views.PasswordResetConfirmView):
    template_name = "core/auth/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(SitePageMixin, auth_views.PasswordResetCompleteView):
    template_name = "core/auth/password_reset_complete.html"


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


@login_required
@require_methods("POST")
def tokens_revoke(request: HttpRequest) -> HttpResponse:
    """Log out everywhere (the profile page's button): ends every JWT issued to you, in every
    API, and your other browser sessions; this session stays, and API keys are not tokens."""
    tokens.user_tokens_revoke(user=request.user)
    update_session_auth_hash(request, request.user)
    messages.success(
        request,
        "Every token and every other session of yours has been ended: apps and scripts that "
        "logged in with your password must log in again. Your API keys still work.",
    )
    return redirect("profile")


# --- API keys --------------------------------------------------------------------------------


# A new key waits here, by prefix, between the POST that creates it and the one GET that
# shows it (post, redirect, get): reloading that page then creates nothing and shows nothing.
NEW_API_KEYS_SESSION_KEY = "core.new_api_keys"


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """Your personal API keys; a POST creates one and redirects to the page that shows it."""
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
            waiting = request.session.get(NEW_API_KEYS_SESSION_KEY, {})
            request.session[NEW_API_KEYS_SESSION_KEY] = {**waiting, api_key.prefix: key}
            return redirect("api_key_created", prefix=api_key.prefix)
    keys = UserAPIKey.objects.filter(user=request.user).order_by("-created")
    return render(request, "core/api_keys.html", {"form": form, "keys": keys})


@login_required
@require_methods("GET")
def api_key_created(request: HttpRequest, prefix: str) -> HttpResponse:
    """Shows a new key once, with a ready ``curl`` command, and forgets it.

    The key leaves the session on this first view; the response must not be stored by any
    cache. Later views of this address redirect to the list of keys. Only a GET shows it (a
    HEAD would use it up unseen).
    """
    api_key = get_object_or_404(UserAPIKey, prefix=prefix, user=request.user)
    waiting = request.session.get(NEW_API_KEYS_SESSION_KEY, {})
    key = waiting.pop(prefix, None)
    if waiting:
        request.session[NEW_API_KEYS_SESSION_KEY] = waiting
    else:
        request.session.pop(NEW_API_KEYS_SESSION_KEY, None)
    if key is None:
        messages.info(
            request,
            f"The key “{api_key.name}” was shown once, when it was created, and cannot be "
            "shown again. If it is lost, revoke it and create a new one.",
        )
        return redirect("api_keys")
    base = request.build_absolute_uri(reverse("organization-list"))
    response = render(
        request,
        "core/api_key_created.html",
        {
            "api_key": api_key,
            "key": key,
            "curl_command": f"curl --header 'Authorization: {API_KEY_KEYWORD} {key}' {base}",
        },
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_methods("GET", "HEAD", "POST")
def api_key_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    """Revoke one of your own keys (POST); a GET asks for confirmation. Anyone else's key
    is a 404."""
    api_key = get_object_or_404(UserAPIKey, prefix=prefix, user=request.user)
    if api_key.revoked:
        messages.info(request, f"The API key “{api_key.name}” was already revoked.")
        return redirect("api_keys")
    if request.method != "POST":
        return render(request, "core/api_key_revoke_confirm.html", {"api_key": api_key})
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
        for text in _error_messages(exc):
            messages.error(request, text)
        return redirect("organization_detail", pk=organization.pk)
    messages.success(request, f"{membership.user.username} removed from {organization.name}.")
    if membership.user_id == request.user.pk and not is_staff(request):
        # You left: the organization's page is no longer yours to see.
        return redirect("organizations")
    return redirect("organization_detail", pk=organization.pk)
