"""Each API may declare its error shape; it applies to every error under its prefix, whoever
answers it. Pages for people under that prefix keep HTML errors. A unique value taken by a
concurrent request is a 409."""

from __future__ import annotations

import pytest
from django.test import Client

from core.exceptions import register_error_format, unregister_error_format

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_api_errors")]


def messages_of(data) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in messages_of(value)]
    if isinstance(data, list):
        return [text for value in data for text in messages_of(value)]
    return [str(data)]


def voltstorage_errors(status: int, data) -> dict:
    return {"errors": messages_of(data)}


@pytest.fixture(autouse=True)
def errors_shape():
    register_error_format("/voltstorage/", voltstorage_errors)
    yield
    unregister_error_format("/voltstorage/")


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_validation_errors_take_the_shape(client):
    response = client.post(
        "/voltstorage/rest/things", {"name": "too long"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"errors": ["Ensure this field has no more than 5 characters."]}


def test_a_view_404_and_a_401_take_the_shape(client):
    assert client.get("/voltstorage/rest/things").json() == {"errors": ["No such thing."]}
    response = client.get("/voltstorage/rest/private")
    assert response.status_code == 401
    assert response.json() == {"errors": ["Authentication credentials were not provided."]}


def test_unknown_urls_and_405_take_the_shape(client):
    response = client.get("/voltstorage/rest/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not found."]}
    response = client.delete("/voltstorage/rest/things")
    assert response.status_code == 405
    assert response.json() == {"errors": ['Method "DELETE" not allowed.']}


def test_the_body_limit_takes_the_shape(client, settings):
    settings.API_MAX_BODY_SIZE = 100
    response = client.post(
        "/voltstorage/rest/things", {"name": "x" * 200}, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {
        "errors": ["Request body too large: the limit for this endpoint is 100 bytes."]
    }


def test_a_server_error_takes_the_shape(client):
    response = client.get("/voltstorage/rest/broken")
    assert response.status_code == 500
    assert response.json() == {"errors": ["Internal server error."]}


def test_other_apis_keep_drf_s_shape(client):
    response = client.get("/api/v2/nothing-here")
    assert response.json() == {"detail": "Not found."}


def test_a_page_under_the_prefix_keeps_html_errors(client):
    assert client.get("/voltstorage/rest/page").content == b"<h1>A page</h1>"
    response = client.get("/voltstorage/rest/page", {"missing": "1"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<nav" in response.content


@pytest.mark.urls("core.urls")
def test_a_unique_value_taken_meanwhile_is_409(client_for, owner, organization, monkeypatch):
    """The service's check passed, then another request added the same member first: the
    database's unique constraint refuses the insert, and the answer is 409, not 500."""
    from django.db.models.query import QuerySet

    from tests.factories import MembershipFactory, UserFactory

    newcomer = UserFactory()
    real_exists = QuerySet.exists

    def exists_then_raced(queryset):
        found = real_exists(queryset)
        if queryset.model.__name__ == "Membership" and not found:
            MembershipFactory(organization=organization, user=newcomer)  # the other request
        return found

    monkeypatch.setattr(QuerySet, "exists", exists_then_raced)
    url = f"/api/v2/organizations/{organization.pk}/members/"
    response = client_for(owner).post(url, {"email": newcomer.email}, format="json")
    assert response.status_code == 409
    assert "must be unique" in response.json()["detail"]
