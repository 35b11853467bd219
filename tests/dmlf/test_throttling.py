"""Requests per user and method, as the original counts them: GET, POST, and PUT/PATCH/DELETE
together; 429 with DRF's message and ``Retry-After``; the token endpoints are left to the
login throttle."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core import throttling
from tests.dmlf import factories as f
from tests.dmlf.conftest import SAMPLES, sample_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.THROTTLE_RATES = {
            **settings.THROTTLE_RATES,
            **{f"dmlf_{name}": rate for name, rate in rates.items()},
        }

    return set_rates


def test_the_defaults_are_the_originals(settings):
    assert settings.THROTTLE_RATES["dmlf_get"] == "10000/day"
    assert settings.THROTTLE_RATES["dmlf_post"] == "500/day"
    assert settings.THROTTLE_RATES["dmlf_write"] == "500/day"


def test_gets_over_the_rate_are_429_with_the_originals_message(
    client_for, member, rates, monkeypatch, institute
):
    monkeypatch.setattr(throttling, "clock", lambda: 86_400 * 20_000 + 3_600)  # 01:00 UTC
    rates(get="3/day")
    client = client_for(member)
    for _ in range(3):
        assert client.get("/dmlf/institutes/").status_code == 200
    response = client.get(f"/dmlf/institutes/{institute.pk}/")
    assert response.status_code == 429
    assert response["Retry-After"] == "82800"  # until the day's window ends
    assert response.json() == {
        "detail": "Request was throttled. Expected available in 82800 seconds."
    }
    # Per user: another user still reads.
    assert client_for(UserFactory()).get("/dmlf/institutes/").status_code == 200


def test_posts_and_writes_have_their_own_counts(client_for, member, rates, sample_body, settings):
    rates(post="1/day", write="2/day")
    client = client_for(member)
    assert client.post(SAMPLES, sample_body(), format="multipart").status_code == 201
    second = client.post(SAMPLES, sample_body(sample_id="240616_125139_010001"), format="multipart")
    assert second.status_code == 429
    url = sample_url("240616_125138_010001")
    assert client.patch(url, {"name": "a"}, format="multipart").status_code == 200
    assert client.put(url, sample_body(), format="multipart").status_code == 200
    assert client.delete(url).status_code == 429  # PUT, PATCH and DELETE count together
    assert client.get(url).status_code == 200


def test_the_token_endpoint_is_not_counted_per_method(member, rates):
    rates(post="1/day")
    for _ in range(3):
        response = APIClient().post(
            "/dmlf/api/token/",
            {"username": member.username, "password": "pass-word-123"},
            format="json",
        )
        assert response.status_code == 200


def test_counts_live_in_the_shared_cache(client_for, member, rates, settings):
    """Two workers share the cache: a count made by one is seen by the other (here, the
    count survives the throttle's process-local fallback being cleared)."""
    rates(get="1/day")
    client = client_for(member)
    assert client.get("/dmlf/sampletypes/").status_code == 200
    throttling.counters.local.clear()
    assert client.get("/dmlf/sampletypes/").status_code == 429


def test_downloads_count_as_gets(client_for, member, rates, project, institute, sample_types):
    sample = f.SampleFactory(project=project, institute=institute)
    rates(get="1/day")
    client = client_for(member)
    assert client.get(sample_url(sample.pk, "sample_info/")).status_code == 200
    assert client.get(sample_url(sample.pk, "sample_info/")).status_code == 429
