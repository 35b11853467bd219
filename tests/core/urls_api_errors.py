"""A test-only URLconf: views under an API prefix whose errors take a registered shape."""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.exceptions import html_errors


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def things(request):
    if request.method == "POST":
        serializer = ThingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=201)
    raise NotFound("No such thing.")


@api_view(["GET"])
def private(request):
    return Response({"ok": True})


@api_view(["GET"])
@permission_classes([AllowAny])
def broken(request):
    raise RuntimeError("boom")


@html_errors
def page(request):
    from django.http import Http404

    if request.GET.get("missing"):
        raise Http404("No such page.")
    return HttpResponse("<h1>A page</h1>")


urlpatterns = [
    path("voltstorage/rest/things", things),
    path("voltstorage/rest/private", private),
    path("voltstorage/rest/broken", broken),
    path("voltstorage/rest/page", page),
    path("", include("core.urls")),
]

handler404 = "core.web_views.page_not_found"
handler500 = "core.web_views.server_error"
