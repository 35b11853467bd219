"""Root URLs. The domain apps are reached only by dotted strings."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.routers import optional_slash
from core.views import TokenObtainPairView, TokenRefreshView, healthz

# API routes answer with and without the trailing slash (core.routers); includes do the same
# in their own modules.
urlpatterns = optional_slash(
    [
        path("", RedirectView.as_view(pattern_name="profile", permanent=False), name="home"),
        path("admin/", admin.site.urls),
        path("accounts/", include("core.web_urls")),
        path("healthz", healthz, name="healthz"),
        path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
        path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
        path("api/v2/", include("core.api_urls")),
        path("api/v2/", include("batterydb.urls")),
        path("batterydb/", include("batterydb.urls_pages")),
        path("passport/", include("passport.urls")),
        path("voltstorage/rest/", include("voltstorage.urls")),
        path("dmlf/", include("dmlf.urls")),
    ]
)
