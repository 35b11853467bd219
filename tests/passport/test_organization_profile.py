"""The organization's profile (address and contact): the manufacturer information of its
battery passports, edited by owners on the organization's page and by staff in the admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Organization

pytestmark = pytest.mark.django_db

PROFILE = {
    "street": "Hauptstrasse",
    "house_number": "1a",
    "postal_code": "01234",
    "city": "Musterstadt",
    "country": "DE",
    "contact_email": "batteries@example.org",
    "contact_phone": "+49 30 1234567",
    "website": "https://example.org",
}


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url_of(organization: Organization) -> str:
    return reverse("organization_detail", args=[organization.pk])


def test_an_owner_saves_the_profile_on_the_organization_page(organization, owner):
    client = page_client(owner)
    page = client.get(url_of(organization))
    assert 'name="postal_code"' in page.content.decode()

    response = client.post(url_of(organization), PROFILE)

    assert response.status_code == 302
    organization.refresh_from_db()
    assert {name: getattr(organization, name) for name in PROFILE} == PROFILE
    assert "Profile saved." in client.get(url_of(organization)).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "#123", "starting with a letter or digit"),
        ("country", "Germany", "ISO 3166 code"),
        ("country", "de", "ISO 3166 code"),
        ("contact_phone", "+49 (30) 123-4567", "Digits and spaces"),
        ("contact_email", "not an email", "valid email"),
        ("website", "example", "valid URL"),
    ],
)
def test_a_bad_value_is_shown_and_nothing_is_saved(organization, owner, field, value, message):
    response = page_client(owner).post(url_of(organization), {**PROFILE, field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    organization.refresh_from_db()
    assert all(getattr(organization, name) == "" for name in PROFILE)


def test_members_below_owner_read_the_profile_and_may_not_change_it(organization, member):
    Organization.objects.filter(pk=organization.pk).update(city="Musterstadt")
    client = page_client(member)

    page = client.get(url_of(organization)).content.decode()
    assert "Musterstadt" in page
    assert 'name="postal_code"' not in page

    assert client.post(url_of(organization), PROFILE).status_code == 403
    organization.refresh_from_db()
    assert organization.street == ""


def test_outsiders_get_404(organization, outsider):
    assert page_client(outsider).post(url_of(organization), PROFILE).status_code == 404


def test_staff_edit_the_profile_in_the_admin(organization, staff):
    staff.is_superuser = True
    staff.save()
    client = page_client(staff)
    url = reverse("admin:core_organization_change", args=[organization.pk])
    page = client.get(url).content.decode()
    assert 'name="contact_phone"' in page

    data = {
        "name": organization.name,
        **PROFILE,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    organization.refresh_from_db()
    assert organization.city == "Musterstadt"
