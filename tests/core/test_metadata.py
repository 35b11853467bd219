"""OPTIONS on an object whose writes lock its row answers the object's metadata
(``core.metadata.PlatformMetadata``): DRF looks the object up under ``PUT``, and the lock
outside a transaction was a 500 on PostgreSQL. Each API that locks is tried."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dmlf.factories import ProjectFactory, SampleFactory
from tests.passport.conftest import document_of
from tests.passport.factories import PassportFactory

# Outside a test transaction, as a server runs: there the lock raised.
pytestmark = pytest.mark.django_db(transaction=True)


def test_options_of_a_dmlf_sample_describes_its_writes(client_for, organization, owner):
    sample = SampleFactory(project=ProjectFactory(organization=organization), user=owner)

    response = client_for(owner).options(reverse("dmlf:sample-detail", args=[sample.sample_id]))

    assert response.status_code == 200, response.content
    assert "PUT" in response.json()["actions"]


def test_options_of_a_passport_describes_its_writes(client_for, organization, owner):
    passport = PassportFactory(
        organization=organization, battery_id="EV-0001", document=document_of("EV-0001")
    )
    url = reverse("passport:battery-pass-detail", kwargs={"batteryIDDMCCode": passport.battery_id})

    response = client_for(owner).options(url)

    assert response.status_code == 200, response.content
    assert "PUT" in response.json()["actions"]
