"""The admin has a page for every DMLF model: sample types with their schema checked when
saved, ZIP files of methods and projects checked and named by id, uploads' sizes and ZIP
listings read without extracting. The demo hook fills an organization once."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dmlf.demo import create_demo_data
from dmlf.models import Experiment, Method, Project, Sample, SampleType
from dmlf.sample_types import BUILTIN_SAMPLE_TYPES, schema_text
from tests.dmlf import factories as f
from tests.dmlf.conftest import stored_files
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = list(apps.get_app_config("dmlf").get_models())


@pytest.fixture
def staff_client(organization, owner, sample_types):
    create_demo_data(organization=organization)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def url_of(model, view: str, *args) -> str:
    return reverse(f"admin:dmlf_{model._meta.model_name}_{view}", args=args)


def test_every_model_is_registered():
    assert {m for m in MODELS if not admin.site.is_registered(m)} == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_list_and_change_form_open(staff_client, model):
    assert staff_client.get(url_of(model, "changelist")).status_code == 200
    assert staff_client.get(url_of(model, "changelist"), {"q": "1"}).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        assert staff_client.get(url_of(model, "change", obj.pk)).status_code == 200
    adding = staff_client.get(url_of(model, "add")).status_code
    assert adding == (403 if model in (Sample, Experiment) else 200)


def test_a_sample_shows_its_files_sizes_and_zip_listing(staff_client):
    sample = Sample.objects.exclude(supplementary_file="").get()
    page = staff_client.get(url_of(Sample, "change", sample.pk)).content.decode()
    assert f"{sample.supplementary_file.size:,} bytes" in page
    assert "datasheet.txt" in page and "1 entries" in page
    assert reverse("dmlf:sample-supplementary-file", args=[sample.pk]) in page
    experiment = Experiment.objects.get()
    page = staff_client.get(url_of(Experiment, "change", experiment.pk)).content.decode()
    assert "eis.csv" in page


def test_a_sample_type_schema_is_checked_when_saved(staff_client):
    bad = staff_client.post(url_of(SampleType, "add"), {"name": "Gel", "schema": '{"type": 3}'})
    assert bad.status_code == 200
    assert "Not a valid JSON Schema" in bad.content.decode()
    not_an_object = staff_client.post(
        url_of(SampleType, "add"), {"name": "Gel", "schema": '{"type": "array"}'}
    )
    assert "must describe an object" in not_an_object.content.decode()
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    body = {"name": "Gel", "schema": json.dumps(schema)}
    good = staff_client.post(url_of(SampleType, "add"), body)
    assert good.status_code == 302
    gel = SampleType.objects.get(name="Gel")
    page = staff_client.get(url_of(SampleType, "change", gel.pk)).content.decode()
    assert "CharField" in page  # the sample-type-info it gives


def test_a_sample_type_name_is_unique_ignoring_case(staff_client):
    response = staff_client.post(
        url_of(SampleType, "add"),
        {"name": "battery", "schema": schema_text(BUILTIN_SAMPLE_TYPES["Battery"])},
    )
    assert response.status_code == 200
    assert SampleType.objects.filter(name__iexact="battery").count() == 1


def test_a_method_file_is_a_checked_zip_named_by_id(staff_client, settings, institute):
    body = {"institute": institute.pk, "name": "Raman spectroscopy"}
    not_zip = SimpleUploadedFile("raman.zip", b"not a zip")
    response = staff_client.post(url_of(Method, "add"), {**body, "method_file": not_zip})
    assert "Only zip files are allowed." in response.content.decode()
    upload = SimpleUploadedFile("raman.zip", f.zip_bytes({"sop.pdf": b"%PDF"}))
    response = staff_client.post(url_of(Method, "add"), {**body, "method_file": upload})
    assert response.status_code == 302
    method = Method.objects.get(name="Raman spectroscopy")
    assert method.method_file.name == f"method_files/{method.pk}.zip"
    assert f"method_files/{method.pk}.zip" in stored_files(settings)


def test_a_project_keeps_its_organization(staff_client, other_organization):
    project = Project.objects.get()
    page = staff_client.get(url_of(Project, "change", project.pk)).content.decode()
    assert 'name="organization"' not in page


def test_the_demo_hook_fills_an_organization_once(organization, owner, sample_types, settings):
    assert create_demo_data(organization=organization) is True
    assert create_demo_data(organization=organization) is False
    assert Project.objects.filter(organization=organization).count() == 1
    samples = Sample.objects.order_by("sample_id")
    assert samples.count() == 2 and Experiment.objects.count() == 1
    assert {s.user_id for s in samples} == {owner.pk}
    assert len(stored_files(settings)) == 4  # two sample_info files and two ZIP archives


def test_setupdemo_fills_the_dmlf_demo_once(settings):
    first, second = io.StringIO(), io.StringIO()
    call_command("setupdemo", stdout=first)
    assert "dmlf" in first.getvalue()
    call_command("setupdemo", stdout=second)
    assert "dmlf" not in second.getvalue()
    assert Project.objects.count() == 1 and Sample.objects.count() == 2


def test_the_navigation_links_to_the_dmlf_docs_for_signed_in_users(member):
    link = f'<a href="{reverse("dmlf:swagger-ui")}">DMLF API</a>'
    client = Client()
    assert link not in client.get(reverse("login")).content.decode()
    client.force_login(member)
    assert link in client.get(reverse("profile")).content.decode()
