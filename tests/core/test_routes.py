"""Every API route answers with and without the trailing slash, for every method, and the
slashed form stays the named one: a write to a URL without the slash is not redirected (a
client would follow the 301 as a GET and lose the body)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.batterydb.factories import BatteryFactory, EISTestFactory

pytestmark = pytest.mark.django_db

SAMPLE = "7"


def named_routes(resolver=None, namespace: str = ""):
    """``(name, kwarg names)`` of every named API route, namespaces included; pages for people
    (``html_errors``) are not API routes, and redirect to their slash as the site's do."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_routes(pattern, inner)
        elif (
            isinstance(pattern, URLPattern)
            and pattern.name
            and not getattr(pattern.callback, "html_errors", False)
        ):
            matcher = pattern.pattern
            names = list(getattr(matcher, "converters", {}) or matcher.regex.groupindex)
            yield namespace + pattern.name, names


def api_routes() -> list[tuple[str, str]]:
    routes = []
    for name, kwarg_names in named_routes():
        if name.startswith("admin:"):
            continue
        path = reverse(name, kwargs={kwarg: SAMPLE for kwarg in kwarg_names})
        if path.startswith(settings.API_PREFIXES) and path.endswith("/") and path != "/api/v2/":
            routes.append((name, path))
    return routes


ROUTES = api_routes()


def test_there_are_api_routes_to_check():
    names = {name for name, _ in ROUTES}
    assert {
        "token_obtain_pair",
        "token_refresh",
        "organization-member-list",
        "organization-member-detail",
        "batterydb:eis-test-report",
        "batterydb:battery-detail",
        "batterydb:bms-file-download",
    } <= names


@pytest.mark.parametrize(("name", "path"), ROUTES, ids=[name for name, _ in ROUTES])
def test_both_forms_resolve_to_the_same_view_and_the_slashed_one_is_named(name, path):
    slashed, bare = resolve(path), resolve(path[:-1])
    assert bare.func == slashed.func
    assert bare.kwargs == slashed.kwargs
    assert slashed.view_name == name
    assert reverse(name, kwargs=slashed.kwargs) == path


@pytest.fixture
def battery(organization):
    return BatteryFactory(organization=organization, battery_id="B-1")


def detail(battery) -> str:
    return reverse("batterydb:battery-detail", kwargs={"pk": battery.pk}).rstrip("/")


def test_patch_without_the_slash_changes_the_object(client_for, member, battery):
    response = client_for(member).patch(detail(battery), {"notes": "patched"}, format="json")
    assert response.status_code == 200
    battery.refresh_from_db()
    assert battery.notes == "patched"


def test_put_without_the_slash_replaces_the_object(client_for, member, battery, organization):
    body = {"organization": organization.pk, "battery_id": "B-2"}
    response = client_for(member).put(detail(battery), body, format="json")
    assert response.status_code == 200
    battery.refresh_from_db()
    assert battery.battery_id == "B-2"


def test_delete_without_the_slash_deletes(client_for, owner, battery):
    assert client_for(owner).delete(detail(battery)).status_code == 204
    assert not type(battery).objects.filter(pk=battery.pk).exists()


def test_a_list_post_without_the_slash_creates(client_for, member, organization):
    url = reverse("batterydb:battery-list").rstrip("/")
    body = [{"organization": organization.pk, "battery_id": f"N-{i}"} for i in range(3)]
    response = client_for(member).post(url, body, format="json")
    assert response.status_code == 201
    assert sorted(row["battery_id"] for row in response.json()) == ["N-0", "N-1", "N-2"]


def test_a_bulk_data_post_without_the_slash_writes_rows(client_for, member, organization):
    test = EISTestFactory(organization=organization)
    url = reverse("batterydb:eis-data-list").rstrip("/")
    rows = [{"test": test.pk, "frequency": 1.0, "parameter": "z_real", "value": 0.5}]
    response = client_for(member).post(url, rows, format="json")
    assert response.status_code == 201
    assert test.data.count() == 1


def test_members_and_report_without_the_slash(client_for, owner, organization):
    from tests.factories import UserFactory

    newcomer = UserFactory()
    url = reverse("organization-member-list", kwargs={"organization_pk": organization.pk})
    response = client_for(owner).post(url.rstrip("/"), {"email": newcomer.email}, format="json")
    assert response.status_code == 201
    assert organization.memberships.filter(user=newcomer).exists()
    test = EISTestFactory(organization=organization)
    report = reverse("batterydb:eis-test-report").rstrip("/")
    assert client_for(owner).get(report, {"test": test.pk}).status_code == 200


def test_a_token_without_the_slash(api_client, member):
    member.set_password("pass-word-123")
    member.save()
    url = reverse("token_obtain_pair").rstrip("/")
    response = api_client.post(
        url, {"username": member.username, "password": "pass-word-123"}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_generated_links_keep_the_slash(client_for, member, battery):
    client = client_for(member)
    BatteryFactory.create_batch(2, organization=battery.organization)
    body = client.get(reverse("batterydb:battery-list").rstrip("/"), {"limit": 1}).json()
    assert body["next"].split("?")[0].endswith("/api/v2/batteries/")


def test_the_api_root_lists_every_resource(client_for, member):
    body = client_for(member).get("/api/v2/").json()
    assert body["batteries"] == "http://testserver/api/v2/batteries/"
    assert body["eis/data"] == "http://testserver/api/v2/eis/data/"
    assert body["organizations"] == "http://testserver/api/v2/organizations/"
    assert body["eis/tests/report"] == "http://testserver/api/v2/eis/tests/report/"
    assert body["jobs"] == "http://testserver/api/v2/jobs/"
    assert body["eis/analyses"] == "http://testserver/api/v2/eis/analyses/"
    assert body["eis/analysis-policies"] == "http://testserver/api/v2/eis/analysis-policies/"
    assert len(body) == 20
