"""Web pages for people: sign up, log in, profile, API keys, organizations."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import web_views
from core.forms import LoginForm

urlpatterns = [
    path("signup/", web_views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("profile/", web_views.profile, name="profile"),
    path("api-keys/", web_views.api_keys, name="api_keys"),
    path("api-keys/<str:prefix>/revoke/", web_views.api_key_revoke, name="api_key_revoke"),
    path("organizations/", web_views.organizations, name="organizations"),
    path("organizations/<int:pk>/", web_views.organization_detail, name="organization_detail"),
    path(
        "organizations/<int:pk>/members/",
        web_views.organization_member_add,
        name="organization_member_add",
    ),
    path(
        "organizations/<int:pk>/members/<int:user_id>/role/",
        web_views.organization_member_role,
        name="organization_member_role",
    ),
    path(
        "organizations/<int:pk>/members/<int:user_id>/remove/",
        web_views.organization_member_remove,
        name="organization_member_remove",
    ),
]
