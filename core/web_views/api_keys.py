"""Personal API keys: create (shown once, after post-redirect-get), list, revoke (confirmed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from rest_framework.exceptions import ValidationError

from core import services
from core.authentication import API_KEY_KEYWORD
from core.forms import (
    APIKeyCreateForm,
)
from core.models import UserAPIKey
from core.web_views.common import error_messages
from core.web_views.errors import require_methods

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
            for text in error_messages(exc):
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
