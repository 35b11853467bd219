"""VoltStorage web pages, mounted by the root URLs at ``/voltstorage/``:
``path("voltstorage/", include("voltstorage.urls_pages"))``, in the ``voltstorage-pages``
namespace (the API's names are in ``voltstorage``)."""

from django.urls import path

from voltstorage import pages

app_name = "voltstorage-pages"

urlpatterns = [
    path("products/", pages.product_list, name="product-list"),
    path("products/<int:pk>/", pages.product_page, name="product-page"),
]
