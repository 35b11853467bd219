"""Trivial endpoints that isolate the cost of each layer: Django, DRF, DRF authentication."""

from django.db import connection
from django.http import JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

PAYLOAD = {"status": "ok", "items": [1, 2, 3]}


def plain_view(request):
    """A plain Django view: the middleware stack and URL resolution, no DRF."""
    return JsonResponse(PAYLOAD)


class NoAuthView(APIView):
    """A DRF view with no authentication and no permission: the cost of DRF itself."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response(PAYLOAD)


class NoAuthDatabaseView(APIView):
    """A DRF view with no authentication that runs one trivial query, as every real endpoint
    touches the database: the baseline for the cost of verifying a credential."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return Response(PAYLOAD)


class AuthView(APIView):
    """A DRF view with the platform's default authentication classes and IsAuthenticated."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({**PAYLOAD, "user": request.user.pk})


def _credential_user(request):
    """The same credential check as the API's for the schemes a client without a session
    sends (``Authorization: User <key>`` or ``Bearer <jwt>``), in the API's order: the user,
    None without a credential, or ``AuthenticationFailed``."""
    from core.authentication import JWTAuthentication, UserAPIKeyAuthentication

    for authenticator in (UserAPIKeyAuthentication(), JWTAuthentication()):
        found = authenticator.authenticate(request)
        if found is not None:
            return found[0]
    return None


def passport_plain(request, battery_id: str, section: str | None = None):
    """The reference of the passport benchmark (``bench.bench_passport``): a plain Django view
    that checks the credential as the API does and runs one SELECT of the passport's row, its
    document (or, with ``section``, the property object in it), answered as JSON. No DRF, no
    access policy, no trimming."""
    import orjson
    from django.db.models.fields.json import KeyTransform
    from django.http import HttpResponse
    from rest_framework.exceptions import AuthenticationFailed

    from passport.definitions import SECTIONS
    from passport.models import Passport

    try:
        _credential_user(request)
    except AuthenticationFailed as exc:
        return JsonResponse({"detail": str(exc.detail)}, status=401)
    rows = Passport.objects.filter(battery_id=battery_id)
    if section is None:
        value = rows.values_list("document", flat=True).first()
    else:
        value = rows.values_list(KeyTransform(SECTIONS[section][0], "document"), flat=True).first()
    if value is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return HttpResponse(orjson.dumps(value), content_type="application/json")
