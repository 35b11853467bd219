"""factory_boy factories of the DMLF models, and the files they are made with."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from dmlf.models import (
    Experiment,
    FundingBody,
    Institute,
    Method,
    Project,
    Sample,
    SampleType,
    Staff,
)
from dmlf.sample_types import BUILTIN_SAMPLE_TYPES, schema_text
from tests.factories import OrganizationFactory

# The guide's own sample_info, as printed.
GUIDE_SAMPLE_INFO = {
    "name": "mock battery",
    "composition": "NMC111",
    "manufacturer": "car manufacturer",
    "produced": "",
    "comment": "here be dragons",
}


def zip_bytes(files: dict[str, bytes] | None = None, **options) -> bytes:
    """A real ZIP archive holding ``files`` (name -> bytes), deflated by default."""
    buffer = io.BytesIO()
    options.setdefault("compression", zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(buffer, "w", **options) as archive:
        default = {"data.csv": b"time,voltage\n0,3.7\n"}
        for name, content in (default if files is None else files).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_upload(name: str = "data.zip", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, zip_bytes() if content is None else content, content_type="application/zip"
    )


def json_upload(document=None, name: str = "sample_info.json") -> SimpleUploadedFile:
    content = json.dumps(GUIDE_SAMPLE_INFO if document is None else document).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


def builtin_sample_types() -> dict[str, SampleType]:
    """The four sample types of the data migration, made again if a transactional test
    flushed them."""
    return {
        name: SampleType.objects.get_or_create(name=name, defaults={"schema": schema_text(schema)})[
            0
        ]
        for name, schema in BUILTIN_SAMPLE_TYPES.items()
    }


class InstituteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institute

    name = factory.Sequence(lambda n: f"Institute {n}")
    street = "Akademiestraße 6"
    postcode = "09599"
    city = "Freiberg"
    telephone = "+49 3731 39-0"
    email = factory.Sequence(lambda n: f"office{n}@example.org")


class MethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Method

    institute = factory.SubFactory(InstituteFactory)
    name = factory.Sequence(lambda n: f"Method {n}")


class FundingBodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingBody

    name = factory.Sequence(lambda n: f"Funding body {n}")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    institute = factory.SubFactory(InstituteFactory)
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lab{n}")
    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    telephone = "+49 3731 39-1"
    active = True


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    funding_body = factory.SubFactory(FundingBodyFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    abbreviation = factory.Sequence(lambda n: f"P{n}")
    funding_number = factory.Sequence(lambda n: f"FN-{n}")
    funding_period_start = dt.date(2023, 1, 1)
    funding_period_end = dt.date(2026, 12, 31)


class SampleFactory(factory.django.DjangoModelFactory):
    """A sample with a stored sample_info file (a sample_id of its own per sequence)."""

    class Meta:
        model = Sample

    sample_id = factory.Sequence(
        lambda n: f"240101_{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}_010001"
    )
    institute = factory.SubFactory(InstituteFactory)
    method = None
    project = factory.SubFactory(ProjectFactory)
    sample_type = factory.LazyFunction(lambda: builtin_sample_types()["Battery"])
    user = None
    name = factory.Sequence(lambda n: f"Sample {n}")
    date_created = dt.date(2024, 1, 1)
    sample_info = factory.LazyAttribute(
        lambda o: ContentFile(json.dumps(GUIDE_SAMPLE_INFO).encode(), name=f"{o.sample_id}.json")
    )


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    sample = factory.SubFactory(SampleFactory)
    method = factory.SubFactory(MethodFactory)
    project = factory.SelfAttribute("sample.project")
    name = factory.Sequence(lambda n: f"Experiment {n}")
    date_created = dt.date(2024, 2, 1)
    experiment_file = factory.LazyFunction(lambda: ContentFile(zip_bytes(), name="data.zip"))
