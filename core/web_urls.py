"""Web pages for people: sign up, log in, passwords, profile, API keys, organizations."""

from django.urls import path

from core import web_views

urlpatterns = [
    path("signup/", web_views.signup, name="signup"),
    path("login/", web_views.LoginView.as_view(), name="login"),
    path("logout/", web_views.LogoutView.as_view(), name="logout"),
    path("password/", web_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        web_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", web_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        web_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        web_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        web_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("profile/", web_views.profile, name="profile"),
    path("tokens/revoke/", web_views.tokens_revoke, name="tokens_revoke"),
    path("api-keys/", web_views.api_keys, name="api_keys"),
    path("api-keys/<str:prefix>/created/", web_views.api_key_created, name="api_key_created"),
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
