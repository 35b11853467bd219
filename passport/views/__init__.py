"""Views of the Digital Battery Passport API under ``/passport/``.

* ``batteryPass``: the list (one array holding one envelope, ``[{"data": [...]}]``, paged by
  ``limit``/``offset`` with ``X-Total-Count`` and ``Link``) and create (``{"data": [p]}``);
* ``batteryPass/{id}``: read, replace (PUT), merge (PATCH, RFC 7396), delete;
* ``batteryPass/{id}/<section>``: the seven property objects, bare, read, replaced, merged;
* ``batteryPass/{id}/grants``: the access classes the organization grants;
* ``batteryPass/{id}/history`` and ``history/{n}``: every version;
* ``batteryPass/{id}/completeness``: what Annex XIII requires and is missing;
* ``batteryPass/{id}/carrier.svg`` and ``carrier.png``: the QR code of the public page.

Who may do what is ``passport.access``; every answer is trimmed to the reader's points of
Annex XIII (``passport.classes``). Bodies are JSON objects only.
"""

from passport.views.carrier import PassportCarrierPNGViewSet, PassportCarrierSVGViewSet
from passport.views.completeness import PassportCompletenessViewSet
from passport.views.grants import PassportGrantViewSet
from passport.views.history import PassportHistoryViewSet, visible_changes
from passport.views.passports import SECTION_VIEWSETS, PassportSectionViewSet, PassportViewSet

__all__ = [
    "SECTION_VIEWSETS",
    "PassportCarrierPNGViewSet",
    "PassportCarrierSVGViewSet",
    "PassportCompletenessViewSet",
    "PassportGrantViewSet",
    "PassportHistoryViewSet",
    "PassportSectionViewSet",
    "PassportViewSet",
    "visible_changes",
]
