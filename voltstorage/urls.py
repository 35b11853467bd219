"""URLs of the VoltStorage REST API, mounted at ``/voltstorage/rest/``, in the ``voltstorage``
namespace (``voltstorage:product-list``, ``voltstorage:export-csv``...); the web pages are in
``voltstorage-pages`` (``voltstorage.urls_pages``).

Every route answers with and without the trailing slash (``core.routers.optional_slash``); the
original's client writes them without. The latest data and statistics answer both under the
product (``products/{id}/latest-data``) and as ``data/latest?productId=``; the stream's routes
are in ``voltstorage.routing``.
"""

from django.urls import path

from core.routers import optional_slash
from voltstorage import views

LIST = {"get": "list", "post": "create"}
DETAIL = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}

app_name = "voltstorage"

urlpatterns = optional_slash(
    [
        path("login/password/", views.LoginView.as_view(), name="login"),
        path("fields/", views.FieldsView.as_view(), name="fields"),
        path("types/", views.ProductTypeViewSet.as_view(LIST), name="type-list"),
        path(
            "types/<int:pk>/",
            views.ProductTypeViewSet.as_view(DETAIL),
            name="type-detail",
        ),
        path("groups/", views.GroupViewSet.as_view(LIST), name="group-list"),
        path("groups/<int:pk>/", views.GroupViewSet.as_view(DETAIL), name="group-detail"),
        path("products/", views.ProductViewSet.as_view(LIST), name="product-list"),
        path(
            "products/<int:product_id>/",
            views.ProductViewSet.as_view(DETAIL),
            name="product-detail",
        ),
        path(
            "products/<int:product_id>/components/",
            views.ComponentViewSet.as_view(LIST),
            name="component-list",
        ),
        path(
            "products/<int:product_id>/components/<int:component_id>/",
            views.ComponentViewSet.as_view(DETAIL),
            name="component-detail",
        ),
        path(
            "products/<int:product_id>/latest-data/",
            views.LatestDataView.as_view(),
            name="product-latest-data",
        ),
        path(
            "products/<int:product_id>/statistics/",
            views.StatisticsView.as_view(),
            name="product-statistics",
        ),
        path(
            "products/<int:product_id>/data/",
            views.IngestView.as_view(),
            name="product-data",
        ),
        path("data/latest/", views.LatestDataView.as_view(), name="latest-data"),
        path("data/statistics/", views.StatisticsView.as_view(), name="statistics"),
        path(
            "data/export.csv/",
            views.ExportView.as_view(export_format="csv"),
            name="export-csv",
        ),
        path(
            "data/export.json/",
            views.ExportView.as_view(export_format="json"),
            name="export-json",
        ),
    ]
)
