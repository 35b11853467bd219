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

from core.web_views.accounts import (
    LoginView,
    LogoutView,
    PasswordChangeDoneView,
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
    profile,
    signup,
    tokens_revoke,
)
from core.web_views.api_keys import api_key_created, api_key_revoke, api_keys
from core.web_views.docs import redoc_bundle
from core.web_views.errors import (
    csrf_failure,
    method_not_allowed,
    page_not_found,
    permission_denied,
    require_methods,
    require_POST,
    server_error,
)
from core.web_views.organizations import (
    organization_detail,
    organization_member_add,
    organization_member_remove,
    organization_member_role,
    organizations,
)

__all__ = [
    "LoginView",
    "LogoutView",
    "PasswordChangeDoneView",
    "PasswordChangeView",
    "PasswordResetCompleteView",
    "PasswordResetConfirmView",
    "PasswordResetDoneView",
    "PasswordResetView",
    "api_key_created",
    "api_key_revoke",
    "api_keys",
    "csrf_failure",
    "method_not_allowed",
    "organization_detail",
    "organization_member_add",
    "organization_member_remove",
    "organization_member_role",
    "organizations",
    "page_not_found",
    "permission_denied",
    "profile",
    "redoc_bundle",
    "require_POST",
    "require_methods",
    "server_error",
    "signup",
    "tokens_revoke",
]
