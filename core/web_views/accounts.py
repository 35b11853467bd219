"""Account pages: log in, log out, passwords (Django's views with the site's templates), sign
up, profile, log out everywhere."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from core import tokens
from core.forms import (
    LoginForm,
    ProfileForm,
    SignUpForm,
)
from core.web_views.common import user_memberships
from core.web_views.errors import SitePageMixin, require_methods

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
        {"form": form, "memberships": user_memberships(request.user)},
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
