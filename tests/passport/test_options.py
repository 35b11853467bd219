"""OPTIONS on a passport and a property object: DRF's metadata looks the object up under the
write methods it describes, whose row lock (``SELECT ... FOR UPDATE``) outside a transaction
was a 500 on PostgreSQL (``core.metadata.PlatformMetadata`` reads it in one)."""

from __future__ import annotations

import pytest
from django.urls import reverse

# Outside a test transaction, as a server runs: there the lock raised.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("section", [None, "electrochemicalProperties"])
def test_options_of_a_passport_describes_it_to_a_member(client_for, member, passport, section):
    kwargs = {"batteryIDDMCCode": passport.battery_id}
    name = f"passport:battery-pass-{section}" if section else "passport:battery-pass-detail"

    response = client_for(member).options(reverse(name, kwargs=kwargs))

    assert response.status_code == 200, response.content
    assert response.json()["name"]
