"""A test-only URLconf: a small API under ``/demo/`` publishing its own schema and docs."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import api_schema_urls


@extend_schema_serializer(component_name="DemoWidget")
class WidgetSerializer(serializers.Serializer):
    name = serializers.CharField()


class WidgetView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=WidgetSerializer(many=True))
    def get(self, request):
        return Response([{"name": "w"}])


demo_patterns = (
    [
        path("demo/widgets/", WidgetView.as_view(), name="widgets"),
        *api_schema_urls(
            namespace="demo",
            prefix="/demo/",
            title="Demo API",
            component_prefix="Demo",
            route="demo/api/schema/",
        ),
    ],
    "demo",
)

urlpatterns = [path("", include(demo_patterns)), path("", include("core.urls"))]
