"""URLs of the Data Mining Lab Freiberg API, mounted at ``/dmlf/``, in the ``dmlf`` namespace.

Every route answers with and without its trailing slash, for every method
(``core.routers``): the guide writes ``institutes/1``. ``api/schema/`` is the DMLF API's own
OpenAPI document (YAML, ``?format=json``) with its Swagger UI and Redoc, under the original's
component names (``core.schema``).
"""

from django.urls import path

from core.routers import OptionalSlashRouter, optional_slash
from core.schema import api_schema_urls
from core.views import TokenObtainPairView, TokenRefreshView
from dmlf import views
from dmlf.serializers import DMLFTokenObtainPairSerializer, DMLFTokenRefreshSerializer

app_name = "dmlf"

router = OptionalSlashRouter()
router.register("institutes", views.InstituteViewSet, basename="institute")
router.register("methods", views.MethodViewSet, basename="method")
router.register("fundingbodies", views.FundingBodyViewSet, basename="fundingbody")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("sampletypes", views.SampleTypeViewSet, basename="sampletype")
router.register("samples", views.SampleViewSet, basename="sample")
router.register("experiments", views.ExperimentViewSet, basename="experiment")

urlpatterns = [
    *optional_slash(
        [
            path(
                "api/token/",
                TokenObtainPairView.as_view(serializer_class=DMLFTokenObtainPairSerializer),
                name="token",
            ),
            path(
                "api/token/refresh/",
                TokenRefreshView.as_view(serializer_class=DMLFTokenRefreshSerializer),
                name="token-refresh",
            ),
            path(
                "api/sample-type-info/",
                views.SampleTypeInfoView.as_view(),
                name="sample-type-info",
            ),
            path(
                "api/sample-type-info/<str:sample_type_name>/",
                views.SampleTypeInfoByNameView.as_view(),
                name="sample-type-info-by-name",
            ),
            *api_schema_urls(
                namespace="dmlf",
                prefix="/dmlf/",
                component_prefix="DMLF",
                title="DataMiningLab API",
                description=(
                    "API for managing experiments, samples, and more in the DataMiningLab "
                    "(Data Mining Lab Freiberg), served by the battery data platform at `/dmlf/`."
                ),
                settings={"COMPONENT_SPLIT_REQUEST": False, "VERSION": "0.2.0"},
            ),
        ]
    ),
    *router.urls,
]
