"""Root URLs. The domain apps are reached only by dotted strings."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core import csp, web_views
from core.routers import optional_slash
from core.views import (
    TokenObtainPairView,
    TokenRefreshView,
    TokenRevokeView,
    healthz,
    healthz_ready,
)

# API routes answer with and without the trailing slash (core.routers); includes do the same
# in their own modules.
urlpatterns = optional_slash(
    [
        path("", RedirectView.as_view(pattern_name="profile", permanent=False), name="home"),
        path("admin/", admin.site.urls),
        path("accounts/", include("core.web_urls")),
        path("healthz", healthz, name="healthz"),
        path("healthz/ready", healthz_ready, name="healthz-ready"),
        path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
        path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
        path("api/token/revoke/", TokenRevokeView.as_view(), name="token_revoke"),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        # Swagger UI with its settings in a script of their own (no inline script), Redoc without
        # web fonts and logo from a CDN; each with the relaxations it needs (core.csp).
        path(
            "api/docs/",
            csp_update(csp.SWAGGER_UI)(
                SpectacularSwaggerSplitView.as_view(
                    url_name="schema", template_name="core/docs/swagger_ui.html"
                )
            ),
            name="swagger-ui",
        ),
        path(
            "api/redoc/",
            csp_update(csp.REDOC)(
                SpectacularRedocView.as_view(
                    url_name="schema", template_name="core/docs/redoc.html"
                )
            ),
            name="redoc",
        ),
        path("api/redoc/redoc.standalone.js", web_views.redoc_bundle, name="redoc-bundle"),
        path("api/v2/", include("core.api_urls")),
        path("api/v2/", include("batterydb.urls")),
        path("batterydb/", include("batterydb.urls_pages")),
        path("passport/", include("passport.urls")),
        path("voltstorage/rest/", include("voltstorage.urls")),
        path("voltstorage/", include("voltstorage.urls_pages")),
        path("dmlf/", include("dmlf.urls")),
    ]
)

# Error pages of the site (JSON under the API prefixes, see core.middleware).
handler403 = "core.web_views.permission_denied"
handler404 = "core.web_views.page_not_found"
handler500 = "core.web_views.server_error"
