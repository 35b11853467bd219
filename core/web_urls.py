"""Web pages for people: sign up, log in, profile, API keys, organizations."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", TemplateView.as_view(template_name="core/profile.html"), name="profile"),
]
