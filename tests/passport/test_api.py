"""The endpoints of the passport API through HTTP: the list's envelope and paging, create,
read, replace, merge and delete, the seven property objects, the round trip of the
documented sample, and both forms of every route."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from passport.definitions import SECTIONS
from passport.models import Passport
from tests.factories import MembershipFactory, OrganizationFactory
from tests.passport.conftest import document_of
from tests.passport.factories import FULL_PASSPORT, PassportFactory, full_passport

pytestmark = pytest.mark.django_db

LIST = "/passport/batteryPass/"


def detail(battery_id: str) -> str:
    return reverse("passport:battery-pass-detail", kwargs={"batteryIDDMCCode": battery_id})


def section_url(battery_id: str, section: str) -> str:
    return reverse(f"passport:battery-pass-{section}", kwargs={"batteryIDDMCCode": battery_id})


def without_extras(data: dict) -> dict:
    """An answered passport without the keys the contract does not have."""
    data = dict(data)
    data.pop("organization")
    data.pop("hasElectrochemicalProperties", None)
    return data


# --- create and the round trip ----------------------------------------------------------------
def test_the_documented_sample_with_every_field_round_trips(client_for, member, organization):
    client = client_for(member)
    created = client.post(LIST, FULL_PASSPORT, format="json")
    assert created.status_code == 201, created.json()
    assert list(created.json()) == ["data"]
    (answered,) = created.json()["data"]
    assert without_extras(answered) == FULL_PASSPORT
    assert answered["organization"] == organization.pk

    read = client.get(detail(FULL_PASSPORT["batteryIDDMCCode"]))
    assert read.status_code == 200
    (passport,) = read.json()["data"]
    assert without_extras(passport) == FULL_PASSPORT
    electrochemical = FULL_PASSPORT["hasEelectrochemicalProperties"]
    assert passport["hasElectrochemicalProperties"] == electrochemical


def test_create_accepts_the_one_e_spelling_and_answers_both(client_for, member):
    body = full_passport("ALIAS-1")
    body["hasElectrochemicalProperties"] = body.pop("hasEelectrochemicalProperties")
    response = client_for(member).post(LIST, body, format="json")
    assert response.status_code == 201, response.json()
    (passport,) = response.json()["data"]
    expected = FULL_PASSPORT["hasEelectrochemicalProperties"]
    assert passport["hasEelectrochemicalProperties"] == expected
    assert passport["hasElectrochemicalProperties"] == expected
    stored = Passport.objects.get(battery_id="ALIAS-1").document
    assert "hasElectrochemicalProperties" not in stored


def test_both_spellings_must_agree(client_for, member):
    body = full_passport("ALIAS-2")
    body["hasElectrochemicalProperties"] = {"ratedCapacity": 1}
    response = client_for(member).post(LIST, body, format="json")
    assert response.status_code == 400
    assert "hasElectrochemicalProperties" in response.json()
    assert not Passport.objects.exists()


def test_a_json_list_is_refused_not_created_in_bulk(client_for, member):
    response = client_for(member).post(
        LIST, [full_passport("L-1"), full_passport("L-2")], format="json"
    )
    assert response.status_code == 400
    assert "one passport per request" in response.json()["non_field_errors"][0]
    assert not Passport.objects.exists()


def test_the_organization_is_implied_when_the_creator_has_exactly_one(
    client_for, member, organization
):
    response = client_for(member).post(LIST, {"batteryIDDMCCode": "ONE"}, format="json")
    assert response.status_code == 201
    assert Passport.objects.get(battery_id="ONE").organization == organization


def test_a_creator_of_two_organizations_must_name_one(client_for, member, organization):
    second = OrganizationFactory()
    MembershipFactory(user=member, organization=second, role="member")
    client = client_for(member)
    response = client.post(LIST, {"batteryIDDMCCode": "TWO"}, format="json")
    assert response.status_code == 400
    assert "Name the organization" in response.json()["organization"][0]
    named = client.post(LIST, {"batteryIDDMCCode": "TWO", "organization": second.pk}, format="json")
    assert named.status_code == 201
    assert named.json()["data"][0]["organization"] == second.pk


def test_an_organization_one_is_not_in_is_a_400_on_that_field(
    client_for, member, other_organization
):
    response = client_for(member).post(
        LIST, {"batteryIDDMCCode": "X", "organization": other_organization.pk}, format="json"
    )
    assert response.status_code == 400
    assert f"No organization {other_organization.pk}" in response.json()["organization"][0]


def test_the_organization_problem_comes_with_every_other_one(client_for, member, organization):
    MembershipFactory(user=member, role="member")
    response = client_for(member).post(
        LIST, {"batteryIDDMCCode": "X", "warrantyPeriod": "8"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"organization", "warrantyPeriod"}


def test_a_duplicate_id_is_a_409_naming_it(client_for, member, passport):
    response = client_for(member).post(LIST, full_passport(passport.battery_id), format="json")
    assert response.status_code == 409
    assert passport.battery_id in response.json()["detail"]
    assert Passport.objects.count() == 1


# --- the list ---------------------------------------------------------------------------------
def test_the_list_is_one_array_holding_one_envelope_of_every_passport(anonymous, organization):
    for index in range(3):
        PassportFactory(organization=organization, battery_id=f"P-{index}")
    response = anonymous.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert [p["batteryIDDMCCode"] for p in body[0]["data"]] == ["P-0", "P-1", "P-2"]
    assert [p["batteryIDDMCCode"] for item in body for p in item["data"]] == ["P-0", "P-1", "P-2"]
    assert response["X-Total-Count"] == "3"
    assert "Link" not in response


def test_the_list_pages_with_limit_offset_total_and_link(anonymous, organization):
    for index in range(5):
        PassportFactory(organization=organization, battery_id=f"P-{index}")
    first = anonymous.get(LIST, {"limit": 2})
    assert [p["batteryIDDMCCode"] for p in first.json()[0]["data"]] == ["P-0", "P-1"]
    assert first["X-Total-Count"] == "5"
    assert first["Link"] == f'<http://testserver{LIST}?limit=2&offset=2>; rel="next"'
    last = anonymous.get(LIST, {"limit": 2, "offset": 4})
    assert [p["batteryIDDMCCode"] for p in last.json()[0]["data"]] == ["P-4"]
    assert 'rel="next"' not in last["Link"] and 'rel="prev"' in last["Link"]


def test_the_list_limit_defaults_to_100_and_is_capped_at_1000(anonymous, organization):
    Passport.objects.bulk_create(
        Passport(organization=organization, battery_id=f"B-{index:04d}", document={})
        for index in range(1001)
    )
    default = anonymous.get(LIST)
    assert len(default.json()[0]["data"]) == 100
    assert default["X-Total-Count"] == "1001"
    capped = anonymous.get(LIST, {"limit": 5000})
    assert capped.status_code == 200
    assert len(capped.json()[0]["data"]) == 1000
    assert capped["Link"] == f'<http://testserver{LIST}?limit=1000&offset=1000>; rel="next"'


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": str(2**63)}, "offset"),
        ({"complete": "maybe"}, "complete"),
        ({"organization": "x"}, "organization"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(anonymous, params, field):
    response = anonymous.get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_list_filters(anonymous, organization, other_organization):
    PassportFactory(
        organization=organization,
        battery_id="LMT-1",
        document=document_of("LMT-1", batteryCategory="LMT battery", placeOfManufacturing="Lyon"),
    )
    PassportFactory(
        organization=other_organization,
        battery_id="EV-9",
        document=document_of("EV-9", placeOfManufacturing="Graz"),
    )

    def ids(**params):
        return [p["batteryIDDMCCode"] for p in anonymous.get(LIST, params).json()[0]["data"]]

    assert ids(batteryCategory="LMT battery") == ["LMT-1"]
    assert ids(organization=other_organization.pk) == ["EV-9"]
    assert ids(q="lyo") == ["LMT-1"]
    assert ids(q="ev-") == ["EV-9"]
    assert ids(q="nowhere") == []


# --- read, replace, merge, delete ---------------------------------------------------------------
def test_put_replaces_the_whole_passport(client_for, member, passport):
    body = {"batteryIDDMCCode": passport.battery_id, "batteryCategory": "LMT battery"}
    response = client_for(member).put(detail(passport.battery_id), body, format="json")
    assert response.status_code == 200, response.json()
    (answered,) = response.json()["data"]
    assert without_extras(answered) == body
    passport.refresh_from_db()
    assert passport.document == {"batteryCategory": "LMT battery"}
    assert passport.battery_category == "LMT battery"


def test_put_without_the_id_takes_the_one_of_the_url(client_for, member, passport):
    response = client_for(member).put(
        detail(passport.battery_id), {"warrantyPeriod": 5}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["batteryIDDMCCode"] == passport.battery_id


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_id_in_the_body_must_equal_the_one_in_the_path(client_for, member, passport, method):
    response = getattr(client_for(member), method)(
        detail(passport.battery_id), {"batteryIDDMCCode": "OTHER"}, format="json"
    )
    assert response.status_code == 400
    assert passport.battery_id in response.json()["batteryIDDMCCode"][0]
    passport.refresh_from_db()
    assert passport.version == 1


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_organization_cannot_change(client_for, member, passport, other_organization, method):
    response = getattr(client_for(member), method)(
        detail(passport.battery_id), {"organization": other_organization.pk}, format="json"
    )
    assert response.status_code == 400
    assert "organization" in response.json()


def test_patch_merges_objects_replaces_arrays_and_null_removes(client_for, member, passport):
    body = {
        "hasEelectrochemicalProperties": {"voltageProperties": {"maxVoltage": "410"}},
        "hasCellChemistryProperties": {"anodeActiveMaterials": [{"materialName": "Silicon"}]},
        "dateOfService": None,
        "warrantyPeriod": 10,
    }
    response = client_for(member).patch(detail(passport.battery_id), body, format="json")
    assert response.status_code == 200, response.json()
    (answered,) = response.json()["data"]
    voltage = answered["hasEelectrochemicalProperties"]["voltageProperties"]
    expected = dict(FULL_PASSPORT["hasEelectrochemicalProperties"]["voltageProperties"])
    expected["maxVoltage"] = "410"
    assert voltage == expected
    assert answered["hasEelectrochemicalProperties"]["ratedCapacity"] == 150
    chemistry = answered["hasCellChemistryProperties"]
    assert chemistry["anodeActiveMaterials"] == [{"materialName": "Silicon"}]
    assert (
        chemistry["cathodeActiveMaterials"]
        == (FULL_PASSPORT["hasCellChemistryProperties"]["cathodeActiveMaterials"])
    )
    assert "dateOfService" not in answered
    assert answered["warrantyPeriod"] == 10


def test_patch_with_the_one_e_spelling_merges_into_the_documented_key(client_for, member, passport):
    response = client_for(member).patch(
        detail(passport.battery_id),
        {"hasElectrochemicalProperties": {"ratedCapacity": 151}},
        format="json",
    )
    assert response.status_code == 200
    passport.refresh_from_db()
    assert passport.document["hasEelectrochemicalProperties"]["ratedCapacity"] == 151
    assert passport.document["hasEelectrochemicalProperties"]["capacityFade"] == 2.5


def test_an_invalid_patch_changes_nothing(client_for, member, passport):
    before = copy.deepcopy(passport.document)
    response = client_for(member).patch(
        detail(passport.battery_id),
        {"warrantyPeriod": 3, "hasStateOfBatteryProperties": {"stateOfHealth": 120}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "hasStateOfBatteryProperties.stateOfHealth": ["Must be at most 100."]
    }
    passport.refresh_from_db()
    assert passport.document == before and passport.version == 1


def test_delete_removes_the_passport(client_for, owner, passport):
    response = client_for(owner).delete(detail(passport.battery_id))
    assert response.status_code == 204
    assert not Passport.objects.exists()
    assert client_for(owner).get(detail(passport.battery_id)).status_code == 404


def test_a_missing_passport_is_a_404_for_every_method(client_for, owner, anonymous):
    url = detail("NOPE")
    assert anonymous.get(url).status_code == 404
    client = client_for(owner)
    assert client.get(url).status_code == 404
    assert client.put(url, {}, format="json").status_code == 404
    assert client.patch(url, {}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(section_url("NOPE", "electrochemicalProperties")).status_code == 404


# --- the property objects ---------------------------------------------------------------------
@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_property_object_is_read_bare(client_for, member, passport, section):
    key = SECTIONS[section][0]
    response = client_for(member).get(section_url(passport.battery_id, section))
    assert response.status_code == 200
    assert response.json() == FULL_PASSPORT[key]


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_property_object_is_replaced_by_put(client_for, member, passport, section):
    key = SECTIONS[section][0]
    replacement = {
        name: value
        for name, value in list(FULL_PASSPORT[key].items())[:1]  # one field of it
    }
    response = client_for(member).put(
        section_url(passport.battery_id, section), replacement, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == replacement
    passport.refresh_from_db()
    assert passport.document[key] == replacement
    assert passport.document["warrantyPeriod"] == 8  # the rest stays


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_property_object_is_merged_by_patch(client_for, member, passport, section):
    key = SECTIONS[section][0]
    name = next(iter(FULL_PASSPORT[key]))
    response = client_for(member).patch(
        section_url(passport.battery_id, section), {name: None}, format="json"
    )
    assert response.status_code == 200, response.json()
    expected = {k: v for k, v in FULL_PASSPORT[key].items() if k != name}
    assert response.json() == expected


def test_a_property_object_the_passport_lacks_is_an_empty_object(client_for, member, organization):
    PassportFactory(organization=organization, battery_id="BARE", document={})
    response = client_for(member).get(section_url("BARE", "stateOfBatteryProperties"))
    assert response.status_code == 200
    assert response.json() == {}


def test_errors_of_a_property_object_name_paths_inside_it(client_for, member, passport):
    response = client_for(member).patch(
        section_url(passport.battery_id, "cellChemistryProperties"),
        {"cathodeActiveMaterials": [{"materialWeight": 1}, {"materialWeight": "heavy"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "cathodeActiveMaterials[1].materialWeight": ["Must be a number, not a string."]
    }


def test_a_property_object_must_be_an_object(client_for, member, passport):
    response = client_for(member).put(
        section_url(passport.battery_id, "stateOfBatteryProperties"), [1], format="json"
    )
    assert response.status_code == 400


# --- routes -----------------------------------------------------------------------------------
def test_ids_with_every_character_of_the_alphabet_route(client_for, member, anonymous):
    battery_id = "Az09._~:-x"
    assert (
        client_for(member).post(LIST, {"batteryIDDMCCode": battery_id}, format="json").status_code
        == 201
    )
    assert anonymous.get(f"/passport/batteryPass/{battery_id}").status_code == 200
    assert anonymous.get(f"/passport/batteryPass/{battery_id}.json").status_code == 404


def test_every_method_works_with_and_without_the_trailing_slash(client_for, owner, anonymous):
    client = client_for(owner)
    for index, suffix in enumerate(["", "/"]):
        battery_id = f"SLASH-{index}"
        created = client.post(
            "/passport/batteryPass" + suffix, {"batteryIDDMCCode": battery_id}, format="json"
        )
        assert created.status_code == 201
        base = f"/passport/batteryPass/{battery_id}"
        assert anonymous.get("/passport/batteryPass" + suffix).status_code == 200
        assert anonymous.get(base + suffix).status_code == 200
        put = client.put(base + suffix, {"warrantyPeriod": 2}, format="json")
        assert put.status_code == 200
        patch = client.patch(base + suffix, {"warrantyPeriod": 3}, format="json")
        assert patch.json()["data"][0]["warrantyPeriod"] == 3
        for section in SECTIONS:
            url = f"{base}/{section}{suffix}"
            assert client.get(url).status_code == 200
            assert client.put(url, {}, format="json").status_code == 200
            assert client.patch(url, {}, format="json").status_code == 200
        assert client.get(f"{base}/history{suffix}").status_code == 200
        assert client.get(f"{base}/history/1{suffix}").status_code == 200
        assert client.get(f"{base}/completeness{suffix}").status_code == 200
        assert client.get(f"{base}/grants{suffix}").status_code == 200
        granted = client.post(
            f"{base}/grants{suffix}",
            {"email": "nobody@example.com", "access": "authorities"},
            format="json",
        )
        assert granted.status_code == 400  # no such user: the route answered
        assert client.delete(f"{base}/grants/999{suffix}").status_code == 404
        assert client.delete(base + suffix).status_code == 204


def test_the_lists_filters_do_not_hide_a_passport_read_by_its_id(passport, client_for):
    """``?batteryCategory=``, ``?complete=`` and the other filters select the list's passports;
    a passport read by its id is answered whatever they say."""
    client = client_for(None)
    for query in ("batteryCategory=other", "complete=false", "q=nothing", "organization=999"):
        response = client.get(f"/passport/batteryPass/{passport.battery_id}?{query}")
        assert response.status_code == 200, query
