"""Content-Security-Policy: the relaxations some pages need on top of the strict policy.

The policy itself is ``CONTENT_SECURITY_POLICY`` in the settings (django-csp). Nothing here
allows inline or foreign scripts; the relaxations concern styles, images and workers of
third-party front ends that the platform serves from its own static files:

- Swagger UI sets ``style`` attributes from React and uses ``data:`` images in its CSS;
- Redoc injects ``<style>`` elements (styled-components), uses ``data:`` images and starts
  its search worker from a ``blob:`` URL;
- DRF's browsable API has ``style`` attributes in its templates.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from rest_framework.renderers import BrowsableAPIRenderer

SWAGGER_UI = {"img-src": ["data:"]}
REDOC = {
    "style-src": [UNSAFE_INLINE],
    "img-src": ["data:"],
    "worker-src": ["blob:"],
}
BROWSABLE_API = {"style-src": [UNSAFE_INLINE]}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, relaxing style attributes for DRF's browsable API only.

    Every API view may answer with the browsable API's HTML, so the relaxation follows the
    renderer DRF chose for the response rather than a list of views.
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and isinstance(
            getattr(response, "accepted_renderer", None), BrowsableAPIRenderer
        ):
            parts.update = {**BROWSABLE_API, **(parts.update or {})}
        return parts
