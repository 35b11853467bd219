"""The admin has a page for every BatteryDB model, and those pages open."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from batterydb.demo import create_demo_data
from batterydb.models import EISData, EISTest
from core.admin import LargeTablePaginator
from core.models import OrganizationChangeError
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = list(apps.get_app_config("batterydb").get_models())


@pytest.fixture
def admin_client_with_data(organization):
    create_demo_data(organization=organization)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def url_of(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_is_registered():
    assert {m for m in MODELS if not admin.site.is_registered(m)} == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_list_and_change_form_open(admin_client_with_data, model):
    client = admin_client_with_data
    assert client.get(url_of(model, "changelist")).status_code == 200
    assert client.get(url_of(model, "changelist"), {"q": "1"}).status_code == 200
    obj = model.objects.order_by("id").first()
    if obj is not None:
        assert client.get(url_of(model, "change", obj.pk)).status_code == 200
    assert client.get(url_of(model, "add")).status_code == 200


def test_eis_data_list_filters_by_parameter_without_counting_the_table(
    admin_client_with_data, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client_with_data.get(url_of(EISData, "changelist"), {"parameter": "ocv"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    assert response.context["cl"].full_result_count is None


def test_eis_data_added_in_the_admin_takes_its_tests_organization(admin_client_with_data):
    test = EISTest.objects.first()
    response = admin_client_with_data.post(
        url_of(EISData, "add"),
        {"test": test.pk, "frequency": "", "parameter": "temperature", "value": "25.5"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert EISData.objects.get(parameter="temperature").organization_id == test.organization_id


def test_large_table_paginator_caps_its_count(organization, monkeypatch):
    create_demo_data(organization=organization)
    monkeypatch.setattr(LargeTablePaginator, "CAP", 50)
    assert LargeTablePaginator(EISData.objects.filter(parameter="z_real"), 10).count == 50
    assert LargeTablePaginator(EISData.objects.filter(parameter="ocv"), 10).count == 2


ORGANIZATION_OWNED = [m for m in MODELS if hasattr(m, "created_at")]


@pytest.mark.parametrize("model", ORGANIZATION_OWNED, ids=lambda m: m.__name__)
def test_the_change_form_shows_the_organization_read_only(admin_client_with_data, model):
    obj = model.objects.order_by("id").first()
    if obj is None:
        pytest.skip(f"the demo data has no {model.__name__}")
    response = admin_client_with_data.get(url_of(model, "change", obj.pk))
    form = response.context["adminform"].form
    assert "organization" not in form.fields
    assert obj.organization.name in response.content.decode()


def test_a_test_cannot_be_moved_to_another_organization_in_the_admin(
    admin_client_with_data, organization, other_organization, client_for
):
    """The leak of the issue: the measurement rows copy their test's organization, so the test
    never moves, and the rows stay readable exactly by the test's organization."""
    test = EISTest.objects.filter(data__isnull=False).first()
    page = admin_client_with_data.get(url_of(EISTest, "change", test.pk))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"organization": other_organization.pk, "projects": []})
    response = admin_client_with_data.post(url_of(EISTest, "change", test.pk), data)
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.organization_id == organization.pk
    newcomer = MembershipFactory(organization=other_organization).user
    rows = client_for(newcomer).get("/api/v2/eis/data/", {"test": test.pk}).json()
    assert rows["count"] == 0
    assert client_for(newcomer).get(f"/api/v2/eis/tests/{test.pk}/").status_code == 404


def test_saving_an_object_with_another_organization_is_refused(organization, other_organization):
    create_demo_data(organization=organization)
    test = EISTest.objects.first()
    test.organization = other_organization
    with pytest.raises(OrganizationChangeError):
        test.save()
    assert EISTest.objects.get(pk=test.pk).organization_id == organization.pk
