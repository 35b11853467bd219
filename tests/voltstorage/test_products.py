"""Products, groups, types and components: the documented product shape, the list's paging,
filters and sort, who sees what (404 beyond), who may change what (403), and registration."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from rest_framework.test import APIClient

from core.models import Membership
from tests.conftest import jwt_for
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.voltstorage.factories import (
    ComponentFactory,
    GroupFactory,
    ProductFactory,
    ProductTypeFactory,
)
from voltstorage.models import Component, Group, Product, ProductType

pytestmark = pytest.mark.django_db

PRODUCTS = "/voltstorage/rest/products"
SAMPLE_KEYS = [
    "id",
    "ownerName",
    "serialNumber",
    "hardwareVersion",
    "manufacturingDate",
    "installationDate",
    "timezone",
    "createdAt",
    "updatedAt",
    "typeId",
    "groupId",
    "type",
    "group",
    "errors",
    "online",
]


def errors_of(response) -> list[str]:
    body = response.json()
    assert set(body) == {"errors"}, body
    return body["errors"]


def as_user(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(user)}")
    return client


def test_a_product_is_shaped_exactly_like_the_documented_sample(organization, member):
    homeowner = UserFactory(first_name="David", last_name="Bauske", email="db@example.com")
    group = GroupFactory(organization=organization, name="Clustering Test", owner=homeowner)
    product = ProductFactory(
        organization=organization,
        group=group,
        serial_number="AA0024",
        errors=["nonDefaultStrategy"],
    )

    [item] = as_user(member).get(PRODUCTS).json()

    assert list(item) == SAMPLE_KEYS
    assert item["id"] == product.pk
    assert item["ownerName"] is None
    assert item["serialNumber"] == "AA0024"
    assert item["hardwareVersion"] == "5.4"
    assert item["manufacturingDate"] == "2019-05-21"
    assert item["installationDate"] is None
    assert item["timezone"] == "Europe/Berlin"
    assert item["createdAt"].endswith("Z") and len(item["createdAt"]) == 24
    assert item["typeId"] == product.type_id and item["groupId"] == group.pk
    assert item["type"] == {
        "id": product.type_id,
        "name": "VoltStorage SMART",
        "startOfProduction": "2018-08-20",
        "baseType": "storage",
    }
    assert item["group"] == {
        "id": group.pk,
        "ownerId": homeowner.pk,
        "name": "Clustering Test",
        "latitude": None,
        "longitude": None,
        "owner": {
            "id": homeowner.pk,
            "name": "David Bauske",
            "email": "db@example.com",
            "demo": False,
        },
    }
    assert item["errors"] == ["nonDefaultStrategy"] and item["online"] is False


def test_owner_name_is_the_full_name_else_the_username(organization, member):
    ProductFactory(organization=organization, owner=UserFactory(username="ada"))
    ProductFactory(organization=organization, owner=UserFactory(first_name="Grace", last_name="H"))
    names = [item["ownerName"] for item in as_user(member).get(PRODUCTS).json()]
    assert names == ["ada", "Grace H"]


def test_the_demo_account_is_marked(organization, member):
    demo = UserFactory(username="demo")
    ProductFactory(
        organization=organization, group=GroupFactory(organization=organization, owner=demo)
    )
    [item] = as_user(member).get(PRODUCTS).json()
    assert item["group"]["owner"]["demo"] is True


# --- Who sees what ---------------------------------------------------------------------------


@pytest.fixture
def people(organization):
    """A product of ``organization`` with an owner user and a group with another owner."""
    homeowner, group_owner = UserFactory(), UserFactory()
    group = GroupFactory(organization=organization, owner=group_owner)
    product = ProductFactory(organization=organization, owner=homeowner, group=group)
    return product, homeowner, group_owner


@pytest.mark.parametrize("who", ["member", "viewer", "owner", "homeowner", "group_owner", "staff"])
def test_these_see_the_product(people, who, request):
    product, homeowner, group_owner = people
    user = {"homeowner": homeowner, "group_owner": group_owner}.get(who) or request.getfixturevalue(
        who
    )
    client = as_user(user)
    assert [p["id"] for p in client.get(PRODUCTS).json()] == [product.pk]
    assert client.get(f"{PRODUCTS}/{product.pk}").status_code == 200
    assert client.get(f"{PRODUCTS}/{product.pk}/latest-data").status_code == 200


def test_others_get_404_and_anonymous_401(people, outsider):
    product, _, _ = people
    client = as_user(outsider)
    assert client.get(PRODUCTS).json() == []
    for url in (
        f"{PRODUCTS}/{product.pk}",
        f"{PRODUCTS}/{product.pk}/latest-data",
        f"{PRODUCTS}/{product.pk}/statistics",
        f"/voltstorage/rest/data/latest?productId={product.pk}",
        f"/voltstorage/rest/data/export.csv?productId={product.pk}&from=0",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert errors_of(response)
    anonymous = APIClient().get(PRODUCTS)
    assert anonymous.status_code == 401
    assert errors_of(anonymous) == ["Authentication credentials were not provided."]


def test_the_visibility_union_is_one_query(organization, member, django_assert_num_queries):
    for _ in range(5):
        ProductFactory(
            organization=organization,
            group=GroupFactory(organization=organization, owner=UserFactory()),
            owner=UserFactory(),
        )
    client = as_user(member)
    client.get(PRODUCTS)  # warm up
    # authentication, the list's count, the page (joins for type, group and owners)
    with django_assert_num_queries(3):
        response = client.get(PRODUCTS)
    assert len(response.json()) == 5


# --- Paging, filters, sort -------------------------------------------------------------------


def test_count_and_page_with_total_and_link(organization, member):
    products = [ProductFactory(organization=organization) for _ in range(5)]
    client = as_user(member)

    response = client.get(PRODUCTS, {"count": 2, "page": 2})
    assert [p["id"] for p in response.json()] == [products[2].pk, products[3].pk]
    assert response["X-Total-Count"] == "5"
    link = response["Link"]
    assert 'page=3>; rel="next"' in link and 'page=1>; rel="prev"' in link
    last = client.get(PRODUCTS, {"count": 2, "page": 3})
    assert [p["id"] for p in last.json()] == [products[4].pk]
    assert 'rel="next"' not in last.get("Link", "")
    assert client.get(PRODUCTS, {"count": 2, "page": 9}).json() == []


def test_count_defaults_to_and_is_capped_at_1000(organization, member):
    ProductFactory(organization=organization)
    client = as_user(member)
    assert len(client.get(PRODUCTS, {"count": 5000}).json()) == 1
    assert errors_of(client.get(PRODUCTS, {"count": 0})) == [
        "count: Must be an integer from 1 to 9223372036854775807."
    ]
    assert errors_of(client.get(PRODUCTS, {"page": "two"})) == [
        "page: Must be an integer; got 'two'."
    ]


def test_filters(organization, member):
    owner = UserFactory()
    group = GroupFactory(organization=organization, name="Rooftop Süd")
    installed = ProductFactory(
        organization=organization,
        installation_date=dt.date(2021, 1, 2),
        serial_number="VS-11",
        group=group,
    )
    plain = ProductFactory(organization=organization, serial_number="XY-22", owner=owner)
    other_type = ProductFactory(
        organization=organization, serial_number="ZZ-33", type=ProductTypeFactory(name="VS PRO")
    )
    client = as_user(member)

    def ids(**params):
        response = client.get(PRODUCTS, params)
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()]

    assert ids(groupId=group.pk) == [installed.pk]
    assert ids(installationDate="true") == [installed.pk]
    assert ids(installationDate="false") == [plain.pk, other_type.pk]
    assert ids(ownerId=owner.pk) == [plain.pk]
    assert ids(q="xy-2") == [plain.pk]
    assert ids(q="pro") == [other_type.pk]
    assert ids(q="rooftop") == [installed.pk]
    assert ids(q=str(plain.pk)) == [plain.pk]
    assert ids(ids=f"{plain.pk},{other_type.pk}") == [plain.pk, other_type.pk]
    response = client.get(f"{PRODUCTS}?ids={plain.pk}&ids={installed.pk}")
    assert [p["id"] for p in response.json()] == [installed.pk, plain.pk]
    assert errors_of(client.get(PRODUCTS, {"installationDate": "maybe"})) == [
        "installationDate: Must be true or false; got 'maybe'."
    ]
    assert errors_of(client.get(PRODUCTS, {"ids": "1,x"}))[0].startswith("ids: Must be integers")


def test_sort_by_installation_date_then_descending_id_with_empty_dates_last(organization, member):
    a = ProductFactory(organization=organization, installation_date=dt.date(2021, 5, 1))
    b = ProductFactory(organization=organization, installation_date=dt.date(2020, 1, 1))
    c = ProductFactory(organization=organization, installation_date=dt.date(2021, 5, 1))
    d = ProductFactory(organization=organization)
    client = as_user(member)

    def ids(sort):
        return [p["id"] for p in client.get(PRODUCTS, {"sort": sort}).json()]

    assert ids("installationDate,-id") == [b.pk, c.pk, a.pk, d.pk]
    assert ids("-installationDate") == [a.pk, c.pk, b.pk, d.pk]
    assert ids("-id") == [d.pk, c.pk, b.pk, a.pk]
    assert errors_of(client.get(PRODUCTS, {"sort": "color"}))[0].startswith(
        "sort: Cannot sort by 'color'"
    )


# --- Registration ----------------------------------------------------------------------------


def test_a_member_registers_a_product_in_their_only_organization(member, organization):
    product_type = ProductTypeFactory()
    response = as_user(member).post(
        PRODUCTS,
        {"serialNumber": "NEW-1", "typeId": product_type.pk, "timezone": "Asia/Kolkata"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert list(response.json()) == SAMPLE_KEYS
    product = Product.objects.get(serial_number="NEW-1")
    assert product.organization == organization and product.timezone == "Asia/Kolkata"


def test_a_product_without_organization_takes_its_group_s(member, organization):
    second = OrganizationFactory()
    MembershipFactory(user=member, organization=second, role=Membership.Role.MEMBER)
    group = GroupFactory(organization=second)
    response = as_user(member).post(
        PRODUCTS,
        {"serialNumber": "G-1", "typeId": ProductTypeFactory().pk, "groupId": group.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Product.objects.get(serial_number="G-1").organization == second


def test_registration_names_what_is_wrong(member, organization, other_organization):
    second = OrganizationFactory()
    MembershipFactory(user=member, organization=second, role=Membership.Role.MEMBER)
    client = as_user(member)
    type_id = ProductTypeFactory().pk

    response = client.post(PRODUCTS, {"serialNumber": "X", "typeId": type_id}, format="json")
    assert errors_of(response) == [
        "organizationId: Name the organization: you belong to 2 organizations."
    ]
    response = client.post(
        PRODUCTS,
        {"serialNumber": "X", "typeId": type_id, "organizationId": other_organization.pk},
        format="json",
    )
    assert errors_of(response) == [
        f"organizationId: No organization {other_organization.pk} of yours."
    ]
    response = client.post(
        PRODUCTS,
        {
            "serialNumber": "X",
            "typeId": type_id,
            "organizationId": organization.pk,
            "timezone": "Mars/Olympus",
        },
        format="json",
    )
    assert errors_of(response)[0].startswith("timezone: 'Mars/Olympus' is not an IANA time zone")
    response = client.post(
        PRODUCTS,
        {
            "serialNumber": "X",
            "typeId": type_id,
            "organizationId": organization.pk,
            "groupId": GroupFactory(organization=second).pk,
        },
        format="json",
    )
    assert errors_of(response) == [
        f"groupId: Must belong to the product's organization ({organization.pk})."
    ]
    ProductFactory(organization=organization, serial_number="TAKEN")
    response = client.post(
        PRODUCTS,
        {"serialNumber": "TAKEN", "typeId": type_id, "organizationId": organization.pk},
        format="json",
    )
    assert errors_of(response) == [
        "serialNumber: A product with this serial number exists already."
    ]
    response = client.post(
        PRODUCTS, {"typeId": 99999, "organizationId": organization.pk}, format="json"
    )
    assert set(errors_of(response)) == {
        "serialNumber: This field is required.",
        'typeId: Invalid pk "99999" - object does not exist.',
    }
    assert not Product.objects.filter(serial_number="X").exists()


def test_viewers_may_not_register_and_members_may_not_delete(viewer, member, owner, organization):
    type_id = ProductTypeFactory().pk
    response = as_user(viewer).post(
        PRODUCTS, {"serialNumber": "V", "typeId": type_id}, format="json"
    )
    assert response.status_code == 403 and errors_of(response)

    product = ProductFactory(organization=organization)
    url = f"{PRODUCTS}/{product.pk}"
    assert as_user(member).patch(url, {"hardwareVersion": "6.0"}, format="json").status_code == 200
    assert as_user(viewer).patch(url, {"hardwareVersion": "7"}, format="json").status_code == 403
    assert as_user(member).delete(url).status_code == 403
    assert as_user(owner).delete(url).status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_the_homeowner_sees_but_may_not_change(organization):
    homeowner = UserFactory()
    product = ProductFactory(organization=organization, owner=homeowner)
    response = as_user(homeowner).patch(
        f"{PRODUCTS}/{product.pk}", {"hardwareVersion": "x"}, format="json"
    )
    assert response.status_code == 403


def test_the_organization_of_a_product_never_changes(member, organization):
    second = OrganizationFactory()
    MembershipFactory(user=member, organization=second, role=Membership.Role.OWNER)
    product = ProductFactory(organization=organization)
    response = as_user(member).patch(
        f"{PRODUCTS}/{product.pk}", {"organizationId": second.pk}, format="json"
    )
    assert errors_of(response) == [
        "organizationId: The organization cannot be changed after create."
    ]


def test_product_types_are_edited_by_staff_only(member, staff):
    body = {"name": "VoltStorage PRO", "startOfProduction": "2022-01-01", "baseType": "storage"}
    assert as_user(member).post("/voltstorage/rest/types", body, format="json").status_code == 403
    response = as_user(staff).post("/voltstorage/rest/types", body, format="json")
    assert response.status_code == 201
    type_id = response.json()["id"]
    assert as_user(member).get("/voltstorage/rest/types").json() == [{"id": type_id, **body}]
    ProductFactory(type=ProductType.objects.get(pk=type_id))
    response = as_user(staff).delete(f"/voltstorage/rest/types/{type_id}")
    assert response.status_code == 409  # products still use it
    assert errors_of(response)[0].startswith("Cannot delete")


def test_groups(member, owner, viewer, outsider, organization):
    homeowner = UserFactory()
    response = as_user(member).post(
        "/voltstorage/rest/groups",
        {"name": "Home", "latitude": 50.1, "longitude": 8.7, "ownerId": homeowner.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    group = response.json()
    assert group["organizationId"] == organization.pk and group["owner"]["id"] == homeowner.pk
    url = f"/voltstorage/rest/groups/{group['id']}"
    assert as_user(homeowner).get(url).status_code == 200
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(viewer).patch(url, {"name": "x"}, format="json").status_code == 403
    response = as_user(member).post(
        "/voltstorage/rest/groups", {"name": "Bad", "latitude": 91}, format="json"
    )
    assert errors_of(response) == ["latitude: Ensure this value is less than or equal to 90."]
    assert as_user(owner).delete(url).status_code == 204
    assert not Group.objects.exists()


def test_components(member, viewer, outsider, organization):
    product = ProductFactory(organization=organization)
    url = f"{PRODUCTS}/{product.pk}/components"
    response = as_user(member).post(
        url, {"name": "Module 1", "kind": "battery-module"}, format="json"
    )
    assert response.status_code == 201, response.content
    component = response.json()
    assert component["productId"] == product.pk and component["name"] == "Module 1"
    assert as_user(viewer).get(url).json() == [component]
    assert as_user(viewer).post(url, {"name": "x"}, format="json").status_code == 403
    assert as_user(outsider).get(url).status_code == 404
    detail = f"{url}/{component['id']}"
    assert as_user(member).patch(detail, {"kind": "inverter"}, format="json").json()["kind"] == (
        "inverter"
    )
    other = ComponentFactory(product=ProductFactory(organization=organization))
    assert as_user(member).get(f"{url}/{other.pk}").status_code == 404
    assert Component.objects.filter(product=product).count() == 1


def test_both_slash_forms_answer(member, organization):
    product = ProductFactory(organization=organization)
    client = as_user(member)
    for url in (PRODUCTS, f"{PRODUCTS}/", f"{PRODUCTS}/{product.pk}", f"{PRODUCTS}/{product.pk}/"):
        assert client.get(url).status_code == 200, url


def test_unknown_urls_and_methods_answer_in_the_api_s_shape(member):
    client = as_user(member)
    response = client.get("/voltstorage/rest/nothing")
    assert response.status_code == 404 and errors_of(response) == ["Not found."]
    response = client.put(PRODUCTS, {}, format="json")
    assert response.status_code == 405
    assert errors_of(response) == ['Method "PUT" not allowed.']


def test_the_field_catalogue(member):
    fields = as_user(member).get("/voltstorage/rest/fields").json()
    by_name = {field["name"]: field for field in fields}
    assert by_name["pvPower"] == {
        "name": "pvPower",
        "label": "Power_PV",
        "unit": "W",
        "meaning": "Power the photovoltaic array produces.",
    }
    assert [field["label"] for field in fields][:7] == [
        "Power_Grid",
        "Power_Household",
        "inverterPower",
        "Power_PV",
        "Power_Power Electronics",
        "SOC_State of Charge",
        "Status",
    ]
    assert "import" in by_name["gridPower"]["meaning"]
    # The original's signs (its CSV sample): the storage's powers are positive discharging.
    for name in ("inverterPower", "powerElectronicsPower", "storagePower"):
        meaning = by_name[name]["meaning"]
        assert re.search(r"\bdischarging[^,;:]*positive", meaning), meaning
        assert re.search(r"\bcharging[^,;:]*negative", meaning), meaning
