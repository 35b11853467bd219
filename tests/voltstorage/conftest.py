"""Shared fixtures of the VoltStorage tests: a product of the ``organization`` fixture, an
ingestion helper and a frozen notion of "now" for sample times."""

from __future__ import annotations

import time

import pytest

from core.exceptions import register_error_format
from tests.voltstorage.factories import ProductFactory
from voltstorage import partitions
from voltstorage.errors import PREFIX, voltstorage_errors

#: A fixed instant for sample times: 2024-03-25T12:00:00Z.
T0 = 1_711_368_000


@pytest.fixture(autouse=True)
def _voltstorage_error_shape():
    """The app registers its error shape once, when it is ready; a core test that stands in for
    it registers and then removes a shape under the same prefix."""
    register_error_format(PREFIX, voltstorage_errors)


@pytest.fixture(autouse=True)
def _fresh_partitions():
    """Each test's database starts without partitions; forget the ones known before."""
    partitions.forget_partitions()
    yield
    partitions.forget_partitions()


@pytest.fixture
def product(organization):
    return ProductFactory(organization=organization)


def data_url(product_id: int) -> str:
    return f"/voltstorage/rest/products/{product_id}/data"


@pytest.fixture
def ingest(client_for, member):
    """``ingest(product, body)``: POST the body as the member; asserts a 201."""
    client = client_for(member)

    def post(product, body, expect=201):
        response = client.post(data_url(product.pk), body, format="json")
        assert response.status_code == expect, response.content
        return response

    return post


def now() -> float:
    return time.time()
