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
