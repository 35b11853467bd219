"""The admin has a page for every BatteryDB model, and those pages open."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from batterydb.admin import LargeTablePaginator
from batterydb.demo import create_demo_data
from batterydb.models import EISData, EISTest
from tests.factories import UserFactory

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
