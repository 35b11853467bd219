"""Sample DMLF data for the demo organization.

``manage.py setupdemo`` calls :func:`create_demo_data` on every run; it fills the organization
only when it has no DMLF project yet, so that DMLF added to an installation whose demo
organization already exists gets its data, and a second run creates nothing twice.

A project funded by a funding body, an institute with two methods (the catalogues are
platform-wide and reused when they exist), a battery cell sample (the guide's own
``sample_info``), a cathode powder taken from it with a supplementary ZIP, and an impedance
experiment on the cell with its data as a ZIP, all written through ``dmlf.services``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from django.core.files.base import ContentFile
from django.db import transaction

from core.files import FileWrites
from core.models import Membership, Organization
from dmlf import services
from dmlf.models import FundingBody, Institute, Method, Project, Sample, SampleType
from dmlf.sample_types import BUILTIN_SAMPLE_TYPES, schema_text

CELL_INFO = {
    "name": "mock battery",
    "composition": "NMC111",
    "manufacturer": "car manufacturer",
    "produced": "",
    "comment": "here be dragons",
}
POWDER_INFO = {"name": "NMC111 cathode powder", "weight_in_g": 2.5, "comment": "from the cell"}


def _zip(files: dict[str, str]) -> ContentFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return ContentFile(buffer.getvalue(), name="demo.zip")


def _impedance_csv() -> str:
    rows = ["frequency_hz,z_real_ohm,z_imag_ohm"]
    for k in range(42):
        frequency = 10_000 * 10 ** (-5 * k / 41)
        rows.append(f"{frequency:.4f},{0.0012 + 0.0013 * k / 41:.6f},{-0.0004 * (k % 7):.6f}")
    return "\n".join(rows) + "\n"


def _free_sample_id(day: dt.date, institute: Institute, method: Method, second: int) -> str:
    """A sample_id of ``day`` with codes the rules accept, not taken yet."""
    codes = f"{min(institute.pk, 99):02d}{min(method.pk, 9999):04d}"
    for offset in range(86_400):
        seconds = (second + offset) % 86_400
        clock = f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
        sample_id = f"{day:%y%m%d}_{clock}_{codes}"
        if not Sample.objects.filter(pk=sample_id).exists():
            return sample_id
    raise RuntimeError(f"No free sample_id on {day}.")


@transaction.atomic
def create_demo_data(*, organization: Organization) -> bool:
    """Fill ``organization`` with DMLF demo data unless it has a DMLF project; whether it did."""
    if Project.objects.filter(organization=organization).exists():
        return False
    owner = (
        organization.memberships.filter(role=Membership.Role.OWNER).select_related("user").first()
    )
    user = owner.user if owner is not None else None
    types = {
        name: SampleType.objects.get_or_create(name=name, defaults={"schema": schema_text(schema)})[
            0
        ]
        for name, schema in BUILTIN_SAMPLE_TYPES.items()
    }
    institute, _ = Institute.objects.get_or_create(
        name="Institute of Electrochemistry (demo)",
        defaults={
            "affiliation": "A university of technology",
            "street": "Akademiestraße 6",
            "postcode": "09599",
            "city": "Freiberg",
            "telephone": "+49 3731 39-0",
            "email": "office@example.org",
        },
    )
    eis, _ = Method.objects.get_or_create(
        institute=institute, name="Electrochemical impedance spectroscopy"
    )
    xrd, _ = Method.objects.get_or_create(institute=institute, name="X-ray diffraction")
    funding_body, _ = FundingBody.objects.get_or_create(name="A research foundation (demo)")
    project = services.project_create(
        data={
            "organization": organization,
            "funding_body": funding_body,
            "name": "Second life of traction batteries",
            "abbreviation": "SECLIFE",
            "funding_number": "DEMO-2024-01",
            "funding_period_start": dt.date(2024, 1, 1),
            "funding_period_end": dt.date(2026, 12, 31),
        },
        user=user,
    )
    day = dt.date(2024, 6, 16)
    with FileWrites() as files:
        cell = services.sample_create(
            data={
                "sample_id": _free_sample_id(day, institute, eis, 12 * 3600 + 51 * 60 + 38),
                "name": "mock sample",
                "institute": institute,
                "method": eis,
                "project": project,
                "sample_type": types["Battery"],
                "date_created": day,
                "sample_info": ContentFile(json.dumps(CELL_INFO).encode(), name="info.json"),
            },
            user=user,
            files=files,
        )
        services.sample_create(
            data={
                "sample_id": _free_sample_id(day, institute, xrd, 15 * 3600),
                "name": "cathode powder",
                "institute": institute,
                "method": xrd,
                "project": project,
                "sample_type": types["Solids"],
                "parent": cell,
                "date_created": day,
                "sample_info": ContentFile(json.dumps(POWDER_INFO).encode(), name="info.json"),
                "supplementary_file": _zip({"datasheet.txt": "NMC111, D50 = 10 µm\n"}),
            },
            user=user,
            files=files,
        )
        services.experiment_create(
            data={
                "name": "EIS at 25 °C, 50 % SOC",
                "method": eis,
                "date_created": dt.date(2024, 6, 17),
                "sample": cell,
                "project": project,
                "experiment_file": _zip({"eis.csv": _impedance_csv()}),
            },
            user=user,
            files=files,
        )
    return True
