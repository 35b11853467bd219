"""The DMLF guide's Python client code, run against a live server.

The code is copied from ``dmlf-api.txt`` as printed, with only ``BASE_URL`` changed (and the
account's ``username``/``password``, which the guide leaves to the reader), plus its own small
slips fixed minimally, each marked ``# FIX:``. The ids the guide uses (institute, method,
project, sample type and staff 1; method code 0102 in its sample_id) are real here: the tests
create them with sequences reset.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import requests

from core.models import Membership
from core.tokens import DMLFAccessToken
from dmlf.models import Experiment, Sample
from tests.dmlf import factories as f
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.live]

PASSWORD = "pass-word-123"


@pytest.fixture
def world(live_server, tmp_path, monkeypatch):
    """What the guide's calls refer to, and its files in the working directory."""
    types = f.builtin_sample_types()
    assert types["Battery"].pk == 1
    institute = f.InstituteFactory(city="Freiberg")
    f.InstituteFactory(city="Chemnitz")
    method = f.MethodFactory(institute=institute)
    f.MethodFactory(institute=institute, id=102)  # the guide's sample_id says method 0102
    organization = OrganizationFactory()
    project = f.ProjectFactory(organization=organization)
    user = MembershipFactory(organization=organization, role=Membership.Role.MEMBER).user
    staff = f.StaffFactory(institute=institute, user=user)
    assert institute.pk == method.pk == project.pk == staff.pk == 1
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample_info.json").write_text(json.dumps(f.GUIDE_SAMPLE_INFO))
    (tmp_path / "sample.zip").write_bytes(f.zip_bytes({"datasheet.pdf": b"%PDF-1.7"}))
    (tmp_path / "experiment.zip").write_bytes(f.zip_bytes({"eis.csv": b"f,z\n1000,0.001\n"}))
    return {"base_url": live_server.url + "/dmlf/", "user": user}


def guide_session(BASE_URL, username, password):
    """Package imports, endpoints, getting a token and the session, as printed."""
    import json

    import requests

    # API base URL
    # BASE_URL = 'https://dmlf.de/'

    # endpoint for obtaining the auth token and refreshing it
    TOKEN_ENDPOINT = BASE_URL + "api/token/"
    REFRESH_TOKEN_ENDPOINT = BASE_URL + "api/token/refresh/"

    # endpoints for retrieving data
    INSTITUTES_ENDPOINT = BASE_URL + "institutes/"
    METHODS_ENDPOINT = BASE_URL + "methods/"
    FUNDINGBODIES_ENDPOINT = BASE_URL + "fundingbodies/"
    PROJECTS_ENDPOINT = BASE_URL + "projects/"

    # endpoints for creating and reading samples and experiments
    SAMPLETYPES_ENDPOINT = BASE_URL + "sampletypes/"
    SAMPLES_ENDPOINT = BASE_URL + "samples/"
    EXPERIMENTS_ENDPOINT = BASE_URL + "experiments/"

    credentials = {"username": username, "password": password}

    headers = {"Content-Type": "application/json"}

    # Request to obtain token
    response = requests.post(TOKEN_ENDPOINT, data=json.dumps(credentials), headers=headers)
    response_data = response.json()
    access_token = response_data.get("access")
    refresh_token = response_data.get("refresh")

    # set up an authenticated session
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {access_token}"})
    return locals()


def test_token_refresh_and_data_retrieval(world):
    g = guide_session(world["base_url"], world["user"].username, PASSWORD)
    assert g["response"].status_code == 200
    REFRESH_TOKEN_ENDPOINT = g["REFRESH_TOKEN_ENDPOINT"]
    INSTITUTES_ENDPOINT = g["INSTITUTES_ENDPOINT"]
    refresh_token, headers = g["refresh_token"], g["headers"]
    session = g["session"]

    # --- Refreshing a Token, as printed ---
    refresh_data = {"refresh": refresh_token}

    response = requests.post(REFRESH_TOKEN_ENDPOINT, json=refresh_data, headers=headers)
    response_data = response.json()

    access_token = response_data.get("access")

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200 and access_token

    refreshes = []

    def refresh_access_token(refresh_token):
        """Request a new access token using the refresh token."""
        response = requests.post(
            REFRESH_TOKEN_ENDPOINT,
            json={"refresh": refresh_token},
            headers={"Content-Type": "application/json"},
        )
        refreshes.append(response.status_code)
        return response.json().get("access")

    def make_api_request(url, tokens, method="GET", data=None):
        """Make an API request and handle 401 by refreshing the token."""
        access_token = tokens["access"]
        headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        response = requests.request(method, url, json=data, headers=headers)

        if response.status_code == 401:
            # Token might have expired, attempt to refresh
            print("Access token expired, refreshing...")
            new_access_token = refresh_access_token(tokens["refresh"])
            if new_access_token:
                access_token = new_access_token
                headers["Authorization"] = f"Bearer {new_access_token}"
                response = requests.request(
                    method, url, json=data, headers=headers
                )  # Retry the request with the new token
            else:
                print("Failed to refresh token.")

            session.headers.update({"Authorization": f"Bearer {access_token}"})

        return response

    tokens = {"access": access_token, "refresh": refresh_token}

    response = make_api_request(INSTITUTES_ENDPOINT, tokens)
    assert response.status_code == 200 and refreshes == []

    # An access token that has expired: the guide's handler refreshes and retries.
    expired_access = DMLFAccessToken.for_user(world["user"], lifetime=dt.timedelta(0))
    expired = {"access": str(expired_access), "refresh": refresh_token}
    response = make_api_request(INSTITUTES_ENDPOINT, expired)
    assert refreshes == [200]
    assert response.status_code == 200

    # --- Data Retrieval, as printed ---
    response = session.get(INSTITUTES_ENDPOINT)
    assert [row["city"] for row in response.json()] == ["Freiberg", "Chemnitz"]

    id = "1"

    response = session.get(INSTITUTES_ENDPOINT + id)
    assert response.status_code == 200 and response.json()["id"] == 1

    params = {"city": "Freiberg"}

    response = session.get(INSTITUTES_ENDPOINT, params=params)

    printed = json.loads(response.text)
    assert [row["city"] for row in printed] == ["Freiberg"]
    for endpoint in ("METHODS_ENDPOINT", "FUNDINGBODIES_ENDPOINT", "PROJECTS_ENDPOINT"):
        assert session.get(g[endpoint]).status_code == 200


def guide_sample_info(session, BASE_URL, SAMPLETYPES_ENDPOINT):
    """Sample Info File, as printed."""
    import json

    response = session.get(SAMPLETYPES_ENDPOINT)
    sample_types = response.json()

    sample_type_name = "Battery"
    sample_type_info_url = f"{BASE_URL}api/sample-type-info/?sample_type_name={sample_type_name}"
    response = session.get(sample_type_info_url)
    structure = response.json()

    sample_info = {
        "name": "mock battery",
        "composition": "NMC111",
        "manufacturer": "car manufacturer",
        "produced": "",
        "comment": "here be dragons",
    }

    sample_info_json = json.dumps(sample_info)
    return sample_types, structure, sample_info_json


SAMPLE_DATA = {
    "sample_id": "240616_125138_010102",
    "name": "mock sample",
    "institute": 1,
    "project": 1,
    "method": 1,
    "parent": "",
    "sample_type": 1,
    "date_created": "2024-06-16",
}


def test_sample_and_experiment_creation(world):
    g = guide_session(world["base_url"], world["user"].username, PASSWORD)
    session, SAMPLES_ENDPOINT = g["session"], g["SAMPLES_ENDPOINT"]
    EXPERIMENTS_ENDPOINT = g["EXPERIMENTS_ENDPOINT"]
    sample_types, structure, sample_info_json = guide_sample_info(
        session, g["BASE_URL"], g["SAMPLETYPES_ENDPOINT"]
    )
    assert [t["name"] for t in sample_types] == ["Battery", "Solids", "Liquid", "Suspension"]
    assert structure["produced"] == {
        "type": "DateField",
        "help_text": "",
        "required": False,
        "allow_null": True,
    }

    # --- Sample POST Request, as printed ---
    sample_info_file = sample_info_json  # FIX: the guide names the JSON text both ways

    # files tuple/list has to be constructed as
    # (file_name, (file_name, file_content, mime_type))
    files = {"sample_info": ("sample_info.json", sample_info_file, "application/json")}

    # sample data to be sent in the POST request
    sample_data = dict(SAMPLE_DATA)

    # POST request
    response = session.post(SAMPLES_ENDPOINT, data=sample_data, files=files)
    assert (response.status_code, response.reason) == (201, "Created"), response.text
    assert response.json()["user"] == world["user"].pk

    # --- Experiment Creation, as printed ---
    experiment_data = {
        "name": "mock experiment",
        "method": "1",
        "date_created": "2023-04-01",
        "sample": "240616_125138_010102",
        "staff": "1",
        "project": "1",
    }

    with open("experiment.zip", "rb") as zip_file:
        # The key in the files dictionary ('sample_info' in this case) should match
        # the name of the field expected by the server for the file upload
        files = {"experiment_file": ("experiment.zip", zip_file, "application/zip")}

        # Make the POST request with the file and any other data
        response = session.post(EXPERIMENTS_ENDPOINT, data=experiment_data, files=files)
    assert response.status_code == 201, response.text
    experiment = Experiment.objects.get()
    assert experiment.experiment_file.name == f"experiment_files/{experiment.pk}.zip"
    downloaded = session.get(response.json()["experiment_file"])
    assert zipfile.ZipFile(io.BytesIO(downloaded.content)).namelist() == ["eis.csv"]


def test_sample_creation_with_existing_files(world):
    g = guide_session(world["base_url"], world["user"].username, PASSWORD)
    session, SAMPLES_ENDPOINT = g["session"], g["SAMPLES_ENDPOINT"]
    sample_data = dict(SAMPLE_DATA)

    # --- Sample POST Request with Existing Files, as printed ---
    # Open JSON and ZIP files for request
    with open("sample_info.json", "rb") as json_file, open("sample.zip", "rb") as zip_file:
        # The key in the files dictionary ('sample_info' in this case) should match
        # the name of the field expected by the server for the file upload
        files = {
            "sample_info": ("sample_info.json", json_file, "application/json"),
            "supplementary_file": ("sample.zip", zip_file, "application/zip"),
        }

        # Make the POST request with the file and any other data
        response = session.post(SAMPLES_ENDPOINT, data=sample_data, files=files)
    assert response.status_code == 201, response.text
    sample = Sample.objects.get()
    assert sample.supplementary_file.name == "supplementary_files/240616_125138_010102.zip"
    again = session.post(
        SAMPLES_ENDPOINT,
        data=sample_data,
        files={"sample_info": ("sample_info.json", b"{}", "application/json")},
    )
    assert again.status_code == 400
    assert again.json()["sample_id"] == [
        "Sample ID already exists. Please provide a unique Sample ID."
    ]
