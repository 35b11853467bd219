"""The three Python programs of the BatteryDB guide, run against a live server.

The programs are copied from ``batterydb:api.txt`` as they are, with only the base URL and the
API key changed (``url``, ``user_key``), plus the guide's own small bugs fixed minimally,
each marked ``# FIX:``. The test ids (441; 105, 104, 103, 102) and the organization id (1) in
the guide are real here: the tests create them, with sequences reset.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from batterydb.models import EISData, Project
from core import services
from core.models import Membership
from tests.batterydb.factories import EISTestFactory
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.live]

FREQUENCIES = [10_000 / 10 ** (i / 7) for i in range(42)]
PARAMETERS = ("z_real", "z_imag", "z_mod", "z_phase", "current", "voltage")


def guide_get_eis_test_data(url, user_key):
    """The guide's second program (minus the example call at its end), as printed."""
    # import packages
    import pandas as pd
    import requests

    # define the function we are building
    # the functional inputs are: the id of the test as an integer, the base url
    # of the database as a string, and an API key as a string
    def get_eis_test_data(test, url, user_key):
        # create the base url query to gather all EIS data for the specified test
        next_link = f"{url}eis/data/?test={test}"

        # create a list to store data as we process it
        rawdata = []

        # this loop is to ensure we cycle through all the pages that it may take
        # to gather all the EIS data
        while next_link:
            # GET the data on this page
            r = requests.get(
                next_link,
                verify=True,
                headers={"Authorization": user_key},
            )

            # if something goes wrong we stop the function and return the broken
            # request
            if not r.ok:
                return r.json()

            # if there is a next page we store it here to ensure we loop through
            # all pages; otherwise, this is set to None
            next_link = r.json()["next"]

            # all results on this page are added to our data list
            results = r.json()["results"]
            rawdata = rawdata + results

        # we now create the dictionary that will hold our processed data
        data = dict()

        for data_point in rawdata:
            # we ignore data points that do not have attached frequencies such
            # as general test parameters or ocv data
            if data_point["frequency"] is None:
                continue

            if data_point["frequency"] not in data.keys():  # noqa: SIM118 (as printed)
                data[data_point["frequency"]] = dict()

            # the data is structured by frequency and then by parameter so
            # data[frequency][parameter] = value
            data[data_point["frequency"]][data_point["parameter"]] = data_point["value"]

        # the dictionary of the data is then passed into pandas to create a
        # dataframe
        data_frame = pd.DataFrame(data)

        # the dataframe is transposed so that each frequency is a row
        data_frame = data_frame.T

        return data_frame

    return get_eis_test_data


def guide_generate_test_report(get_eis_test_data):
    """The guide's third program (minus the example call), as printed."""
    # import packages
    import pandas as pd
    import requests

    def generate_test_report(test_list, url, user_key):
        # we begin by creating our data structure
        # this is a list of lists, with each list corresponding to a row of the
        # dataframe

        # the first row will be the header for our dataframe
        data = ["battery_id"]

        # these are the real and imaginary impedance names as lists
        # an eis test considers 42 frequencies
        zr = [f"z_real_{i}" for i in range(42)]
        zi = [f"z_imag_{i}" for i in range(42)]

        data = [data + zr + zi]

        # loop through the test list
        for test in test_list:
            # get the first tests data
            turl = f"{url}eis/tests/{test}/"
            r = requests.get(
                turl,
                verify=True,
                headers={"Authorization": user_key},
            )

            # begin building the dataframe row
            row = []

            # the values stored here are the primary key ids of each battery
            row.append(r.json()["battery"])

            # use the previous function to get the EIS data and add it to the row
            sub = get_eis_test_data(test, url, user_key)
            zrs = sub["z_real"].to_list()
            zis = sub["z_imag"].to_list()
            row = row + zrs + zis

            # add each row to the overall data list
            data.append(row)

        # we use the data structure to create the dataframe and establish the
        # header
        df = pd.DataFrame(data[1:])
        df.columns = data[0]

        # FIX: the guide reads a 'bid' column it never created; the column is 'battery_id'.
        # FIX: pandas 3 (copy-on-write) ignores ``df[col].iloc[i] = ...`` and refuses strings
        # in an int column, so the column becomes object and is set with ``df.loc``.
        df["battery_id"] = df["battery_id"].astype(object)

        # now we cycle through the dataframe and find the battery id values for
        # each battery included in the test
        for i in range(df.shape[0]):
            # the url is generated by the primary key stored from the test data,
            # and is used to get the battery data
            burl = f"{url}batteries/{df['battery_id'].iloc[i]}"  # FIX: was df['bid']
            r = requests.get(
                burl,
                # verify=False,
                headers={"Authorization": user_key},
            )

            # the primary key is now replaced with the battery id
            df.loc[i, "battery_id"] = r.json()["battery_id"]  # FIX: was df['bid'].iloc[i] = ...

        return df

    return generate_test_report


def guide_bulk_upload_projects(url, user_key):
    """The guide's fourth program, as printed, returning its response."""
    # import packages
    import json

    import requests

    data = [
        {"organization": 1, "name": "project1"},
        {"organization": 1, "name": "project2"},
        {"organization": 1, "name": "project3"},
        {"organization": 1, "name": "project4"},
    ]
    data = json.dumps(data)

    # data is a json dump of a list of json like dictionaries, each one satisfying
    # the upload requirements for the endpoint

    r = requests.post(
        url,
        verify=True,
        headers={"Authorization": user_key, "Content-Type": "application/json"},
        data=data,
    )
    return r


@pytest.fixture
def guide_world(live_server):
    """Organization 1 with a member holding an API key, and EIS tests 441 and 105..102 with
    a full sweep each (six parameters at 42 frequencies, plus OCV): more than one page."""
    organization = OrganizationFactory()
    assert organization.pk == 1
    user = MembershipFactory(organization=organization, role=Membership.Role.MEMBER).user
    _, key = services.api_key_create(user=user, name="guide")
    url = f"{live_server.url}/api/v2/"
    user_key = f"User {key}"
    expected = {}
    for test_id in (441, 105, 104, 103, 102):
        test = EISTestFactory(pk=test_id, organization=organization)
        rows = [{"test": test_id, "frequency": None, "parameter": "ocv", "value": 3.7}]
        for i, frequency in enumerate(FREQUENCIES):
            for parameter in PARAMETERS:
                value = (test_id + i / 100) * (-1 if parameter == "z_imag" else 1)
                rows.append(
                    {
                        "test": test_id,
                        "frequency": frequency,
                        "parameter": parameter,
                        "value": value,
                    }
                )
        response = requests.post(
            f"{url}eis/data/",
            json=rows,
            headers={"Authorization": user_key, "Prefer": "return=minimal"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        expected[test_id] = (test.battery.battery_id, rows)
    return url, user_key, expected


def test_get_eis_test_data_builds_the_42_frequency_dataframe(guide_world):
    url, user_key, _ = guide_world
    get_eis_test_data = guide_get_eis_test_data(url, user_key)
    test_id = 441
    df = get_eis_test_data(test_id, url, user_key)  # FIX: the guide calls get_all_test_data
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (42, 6)
    assert list(df.index) == FREQUENCIES
    assert list(df.columns) == list(PARAMETERS)
    assert df["z_real"].to_list() == [441 + i / 100 for i in range(42)]
    assert df["z_imag"].to_list() == [-(441 + i / 100) for i in range(42)]
    assert EISData.objects.filter(test_id=441).count() == 42 * 6 + 1


def test_generate_test_report_matches_the_server_side_report(guide_world):
    url, user_key, expected = guide_world
    get_eis_test_data = guide_get_eis_test_data(url, user_key)
    generate_test_report = guide_generate_test_report(get_eis_test_data)
    test_list = [105, 104, 103, 102]
    eis_report = generate_test_report(test_list, url, user_key)
    assert eis_report.shape == (4, 85)
    assert eis_report["battery_id"].to_list() == [expected[t][0] for t in test_list]
    assert eis_report["z_real_0"].to_list() == [float(t) for t in test_list]
    assert eis_report["z_imag_41"].to_list() == [-(t + 0.41) for t in test_list]

    response = requests.get(
        f"{url}eis/tests/report/",
        params=[("test", t) for t in test_list],
        headers={"Authorization": user_key},
        timeout=30,
    )
    assert response.status_code == 200
    server = pd.DataFrame(response.json())
    assert list(server.columns) == list(eis_report.columns)
    pd.testing.assert_frame_equal(server, eis_report, check_dtype=False)

    as_csv = requests.get(
        f"{url}eis/tests/report/?test=105,104,103,102&format=csv",
        headers={"Authorization": user_key},
        timeout=30,
    )
    from io import StringIO

    from_csv = pd.read_csv(StringIO(as_csv.text), dtype={"battery_id": object})
    pd.testing.assert_frame_equal(from_csv, eis_report, check_dtype=False)


def test_bulk_upload_of_projects(guide_world):
    url, user_key, _ = guide_world
    r = guide_bulk_upload_projects(f"{url}projects/", user_key)
    assert r.status_code == 201, r.text
    assert [p["name"] for p in r.json()] == ["project1", "project2", "project3", "project4"]
    assert sorted(Project.objects.filter(organization_id=1).values_list("name", flat=True)) == [
        "project1",
        "project2",
        "project3",
        "project4",
    ]
