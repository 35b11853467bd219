"""Fixtures of the DMLF tests: the catalogues, a project of the organization, sample bodies."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dmlf import factories as f

SAMPLES = "/dmlf/samples/"
EXPERIMENTS = "/dmlf/experiments/"
SAMPLE_ID = "240616_125138_010001"


@pytest.fixture
def sample_types(db):
    return f.builtin_sample_types()


@pytest.fixture
def institute(db):
    return f.InstituteFactory(city="Freiberg")


@pytest.fixture
def method(institute):
    return f.MethodFactory(institute=institute)


@pytest.fixture
def project(organization):
    return f.ProjectFactory(organization=organization)


@pytest.fixture
def sample_body(sample_types, institute, method, project):
    """``sample_body(**overrides)``: a multipart body of a valid new sample, as the guide
    sends it (``parent`` empty, files as uploads)."""

    def make(**overrides):
        body = {
            "sample_id": SAMPLE_ID,
            "name": "mock sample",
            "institute": institute.pk,
            "project": project.pk,
            "method": method.pk,
            "parent": "",
            "sample_type": sample_types["Battery"].pk,
            "date_created": "2024-06-16",
            "sample_info": f.json_upload(),
        }
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not None}

    return make


@pytest.fixture
def experiment_body(method, project):
    """``experiment_body(sample, **overrides)``: a multipart body of a valid new experiment."""

    def make(sample, **overrides):
        body = {
            "name": "mock experiment",
            "method": method.pk,
            "date_created": "2023-04-01",
            "sample": sample.pk,
            "project": project.pk,
            "experiment_file": f.zip_upload("experiment.zip"),
        }
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not None}

    return make


def stored_files(settings) -> list[str]:
    """Every file in the media folder, relative to it, sorted."""
    root = settings.MEDIA_ROOT
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def sample_url(sample_id: str, suffix: str = "") -> str:
    return reverse("dmlf:sample-detail", args=[sample_id]) + suffix
