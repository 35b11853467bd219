"""The export: ``data/export.csv`` as the original writes it (``sep=`` line, labels, CRLF on
every line, ISO times with milliseconds and the ``tz`` offset, empty cells, significant
digits, the separator on every line), ``data/export.json``, streamed; Ramer-Douglas-Peucker
with a relative tolerance and Largest-Triangle-Three-Buckets with ``maxPoints``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.voltstorage.conftest import T0
from tests.voltstorage.factories import ComponentFactory, ProductFactory

pytestmark = pytest.mark.django_db

CSV = "/voltstorage/rest/data/export.csv"
JSON = "/voltstorage/rest/data/export.json"

# The rows of the original's documented sample (Power_Grid, Power_Household, inverterPower,
# Power_PV, Power_Power Electronics, SOC_State of Charge), by offset in ms from 12:20:41.562.
SAMPLE = [
    (
        0,
        {
            "gridPower": -49.8754,
            "householdPower": 815.662,
            "inverterPower": 433.105,
            "pvPower": 432.432,
            "powerElectronicsPower": 433.105,
            "stateOfCharge": 0.611868,
        },
    ),
    (994, {"gridPower": -71.7332}),
    (2006, {"gridPower": -55.5049, "inverterPower": 395.02, "powerElectronicsPower": 395.02}),
]
SAMPLE_START = 1585138841.562  # 2020-03-25T12:20:41.562Z


def body(response) -> str:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def client(client_for, member):
    return client_for(member)


@pytest.fixture
def documented(ingest, product):
    ingest(
        product,
        [{"time": SAMPLE_START + offset / 1000, "data": data} for offset, data in SAMPLE],
    )
    return product


def test_csv_is_written_as_the_original_writes_it(client, documented):
    fields = "gridPower,householdPower,inverterPower,pvPower,powerElectronicsPower,stateOfCharge"
    text = body(
        client.get(
            CSV,
            {
                "productId": documented.pk,
                "from": SAMPLE_START - 1,
                "to": SAMPLE_START + 10,
                "fields": fields,
            },
        )
    )
    assert text == (
        "sep=,\r\n"
        "Time,Power_Grid,Power_Household,inverterPower,Power_PV,Power_Power Electronics,"
        "SOC_State of Charge\r\n"
        "2020-03-25T12:20:41.562+00:00,-49.8754,815.662,433.105,432.432,433.105,0.611868\r\n"
        "2020-03-25T12:20:42.556+00:00,-71.7332,,,,,\r\n"
        "2020-03-25T12:20:43.568+00:00,-55.5049,,395.02,,395.02,\r\n"
    )


def test_every_field_by_default_in_the_catalogue_s_order(client, documented):
    text = body(client.get(CSV, {"productId": documented.pk, "from": 0}))
    header = text.split("\r\n")[1].split(",")
    assert header[:8] == [
        "Time",
        "Power_Grid",
        "Power_Household",
        "inverterPower",
        "Power_PV",
        "Power_Power Electronics",
        "SOC_State of Charge",
        "Status",
    ]
    assert len(text.split("\r\n")) == 2 + 3 + 1  # sep, header, rows, and the final CRLF


def test_separator_tz_and_precision_apply_to_every_line(client, documented):
    text = body(
        client.get(
            CSV,
            {
                "productId": documented.pk,
                "from": SAMPLE_START,
                "to": SAMPLE_START + 1,
                "fields": "gridPower,stateOfCharge",
                "separator": ";",
                "tz": 90,
                "precision": 3,
            },
        )
    )
    assert text == (
        "sep=;\r\n"
        "Time;Power_Grid;SOC_State of Charge\r\n"
        "2020-03-25T13:50:41.562+01:30;-49.9;0.612\r\n"
        "2020-03-25T13:50:42.556+01:30;-71.7;\r\n"
    )
    text = body(
        client.get(
            CSV,
            {
                "productId": documented.pk,
                "from": SAMPLE_START,
                "tz": -330,
                "fields": "gridPower",
                "to": SAMPLE_START,
            },
        )
    )
    assert text.split("\r\n")[2] == "2020-03-25T06:50:41.562-05:30,-49.8754"


def test_a_label_holding_the_separator_is_quoted(client, documented):
    text = body(
        client.get(
            CSV,
            {"productId": documented.pk, "from": 0, "fields": "stateOfCharge", "separator": " "},
        )
    )
    assert text.split("\r\n")[1] == 'Time "SOC_State of Charge"'


def test_large_and_small_numbers_keep_their_digits(ingest, product, client):
    ingest(
        product,
        {
            "time": T0,
            "data": {
                "gridPower": 22079844,
                "pvPower": 0.000123456789,
                "householdPower": 0,
                "status": 3,
            },
        },
    )
    text = body(
        client.get(
            CSV,
            {
                "productId": product.pk,
                "from": T0,
                "fields": "gridPower,pvPower,householdPower,status",
            },
        )
    )
    assert text.split("\r\n")[2] == "2024-03-25T12:00:00.000+00:00,22079800,0.000123457,0,3"
    text = body(
        client.get(
            CSV, {"productId": product.pk, "from": T0, "fields": "gridPower", "precision": 17}
        )
    )
    assert text.split("\r\n")[2].endswith(",22079844")


def test_json_rows_hold_the_fields_with_a_value(client, documented):
    rows = json.loads(
        body(
            client.get(JSON, {"productId": documented.pk, "from": 0, "fields": "gridPower,pvPower"})
        )
    )
    assert rows == [
        {"time": "2020-03-25T12:20:41.562+00:00", "gridPower": -49.8754, "pvPower": 432.432},
        {"time": "2020-03-25T12:20:42.556+00:00", "gridPower": -71.7332},
        {"time": "2020-03-25T12:20:43.568+00:00", "gridPower": -55.5049},
    ]


def test_rows_without_a_value_of_the_asked_fields_are_left_out(client, documented):
    rows = json.loads(
        body(client.get(JSON, {"productId": documented.pk, "from": 0, "fields": "pvPower"}))
    )
    assert rows == [{"time": "2020-03-25T12:20:41.562+00:00", "pvPower": 432.432}]


def test_from_and_to_bound_the_rows_to_is_included(client, documented):
    rows = json.loads(
        body(
            client.get(
                JSON,
                {
                    "productId": documented.pk,
                    "from": SAMPLE_START + 0.994,
                    "to": SAMPLE_START + 2.006,
                    "fields": "gridPower",
                },
            )
        )
    )
    assert [row["gridPower"] for row in rows] == [-71.7332, -55.5049]


def test_an_export_of_nothing_is_a_header_or_an_empty_list(client, product):
    assert body(client.get(CSV, {"productId": product.pk, "from": 0, "fields": "pvPower"})) == (
        "sep=,\r\nTime,Power_PV\r\n"
    )
    assert body(client.get(JSON, {"productId": product.pk, "from": 0})) == "[]"


def test_a_component_is_exported_by_its_id(ingest, product, client, outsider, client_for):
    component = ComponentFactory(product=product)
    ingest(
        product,
        [
            {"time": T0, "data": {"pvPower": 7}, "componentId": component.pk},
            {"time": T0, "data": {"pvPower": 1}},
        ],
    )
    rows = json.loads(
        body(client.get(JSON, {"componentId": component.pk, "from": 0, "fields": "pvPower"}))
    )
    assert rows == [{"time": "2024-03-25T12:00:00.000+00:00", "pvPower": 7}]
    response = client_for(outsider).get(JSON, {"componentId": component.pk, "from": 0})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "productId: Give productId or componentId (one of them)."),
        ({"productId": 1, "componentId": 1, "from": 0}, "productId: Give productId or"),
        ({"productId": "{p}"}, "from: Required: the first time, unix seconds."),
        ({"productId": "{p}", "from": "monday"}, "from: Must be a number of seconds"),
        ({"productId": "{p}", "from": 10, "to": 5}, "to: Must not be before from."),
        ({"productId": "{p}", "from": 0, "fields": "pvPower,wind"}, "fields: Unknown field 'wind'"),
        ({"productId": "{p}", "from": 0, "tz": 1000}, "tz: Must be from -959 to 959 minutes."),
        ({"productId": "{p}", "from": 0, "precision": 0}, "precision: Must be an integer from 1"),
        ({"productId": "{p}", "from": 0, "precision": 18}, "precision: Must be from 1 to 17."),
        ({"productId": "{p}", "from": 0, "tolerance": -1}, "tolerance: Must be a number of at"),
        ({"productId": "{p}", "from": 0, "maxPoints": 1}, "maxPoints: Must be an integer from 2"),
        ({"productId": "{p}", "from": 0, "maxPoints": 20000}, "maxPoints: Must be from 2 to"),
        ({"productId": "{p}", "from": 0, "maxPoints": 5}, "maxPoints: Must be at least the num"),
        (
            {"productId": "{p}", "from": 0, "maxPoints": 500, "tolerance": 0.1},
            "maxPoints: Give maxPoints or tolerance, not both.",
        ),
        ({"productId": "{p}", "from": 0, "separator": "1"}, "separator: Must be 1 to 4 char"),
        ({"productId": "{p}", "from": 0, "separator": "\r\n"}, "separator: Must be 1 to 4"),
    ],
)
def test_bad_parameters_are_a_400_in_json_naming_them(client, product, params, message):
    params = {
        k: (str(v).format(p=product.pk) if isinstance(v, str) else v) for k, v in params.items()
    }
    response = client.get(CSV, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error.startswith(message), error


# --- Simplification --------------------------------------------------------------------------


@pytest.fixture
def curve(ingest, product):
    """A day's worth of a noisy sine (pvPower) and a step (gridPower), one sample a minute."""
    rng = np.random.default_rng(7)
    minutes = np.arange(1440)
    pv = 3000 * np.clip(np.sin(np.pi * (minutes - 360) / 720), 0, None) + rng.normal(0, 5, 1440)
    grid = np.where(minutes < 700, 200.0, -800.0)
    grid[900] = 2500  # one spike
    ingest(
        product,
        [
            {"time": T0 + 60 * int(m), "data": {"pvPower": float(p), "gridPower": float(g)}}
            for m, p, g in zip(minutes, pv, grid, strict=True)
        ],
    )
    return product, pv, grid


def export_json(client, product, **params):
    response = client.get(
        JSON, {"productId": product.pk, "from": T0, "to": T0 + 86400, "precision": 17, **params}
    )
    return json.loads(body(response))


def interpolate(rows, field, times):
    points = [(row["time"], row[field]) for row in rows if field in row]
    t = np.array(
        [
            np.datetime64(time[:23]).astype("datetime64[ms]").astype(np.int64) / 1000
            for time, _ in points
        ]
    )
    v = np.array([value for _, value in points])
    return np.interp(times, t, v)


def test_tolerance_drops_samples_and_keeps_the_curve_within_it(client, curve):
    product, pv, _grid = curve
    everything = export_json(client, product, fields="pvPower,gridPower")
    simplified = export_json(client, product, fields="pvPower,gridPower", tolerance=0.01)

    assert len(everything) == 1440
    kept_pv = sum("pvPower" in row for row in simplified)
    assert 10 < kept_pv < 1440 / 2
    times = T0 + 60 * np.arange(1440)
    deviation = np.abs(interpolate(simplified, "pvPower", times) - pv).max()
    pv_range = pv.max() - pv.min()
    assert deviation <= 0.01 * pv_range * 1.001
    # The step and the spike survive; the flat parts do not.
    grid_rows = [row for row in simplified if "gridPower" in row]
    assert any(row["gridPower"] == 2500 for row in grid_rows)
    assert len(grid_rows) <= 8


def test_max_points_bounds_the_rows_and_keeps_the_extremes(client, curve):
    product, pv, _grid = curve
    rows = export_json(client, product, fields="pvPower,gridPower", maxPoints=100)
    assert len(rows) <= 100
    pv_points = [row["pvPower"] for row in rows if "pvPower" in row]
    grid_points = [row["gridPower"] for row in rows if "gridPower" in row]
    assert 40 <= len(pv_points) <= 50 and len(grid_points) <= 50
    assert max(pv_points) >= pv.max() - 30  # the peak is chosen (noise aside)
    assert 2500 in grid_points  # the spike too
    assert math.isclose(pv_points[0], pv[0])  # the first sample always


def test_max_points_of_one_field_on_the_csv(client, curve):
    product, _, _ = curve
    response = client.get(
        CSV,
        {
            "productId": product.pk,
            "from": T0,
            "to": T0 + 86400,
            "fields": "pvPower",
            "maxPoints": 10,
        },
    )
    lines = body(response).split("\r\n")
    assert lines[0] == "sep=," and lines[1] == "Time,Power_PV"
    assert 2 <= len(lines) - 3 <= 10


def test_the_original_client_reads_the_export(client, documented, member):
    """What the one public client does with the answer (its data service): split at CRLF, take
    the separator line and the header off, split each row at ';' and read the columns by
    their place."""
    response = client.get(
        CSV,
        {
            "productId": documented.pk,
            "from": SAMPLE_START - 1,
            "to": SAMPLE_START + 60,
            "tolerance": 0,
            "precision": 3,
            "separator": ";",
        },
    )
    lines = body(response).split("\r\n")
    assert lines[0] == "sep=;"
    lines = lines[2:]
    columns = lines[0].split(";")
    assert columns[1] == "-49.9"  # Power_Grid
    assert columns[2] == "816"  # Power_Household
    assert columns[3] == "433"  # inverterPower
    assert columns[4] == "432"  # Power_PV
    assert columns[6] == "0.612"  # SOC_State of Charge
    assert lines[-1] == ""


def test_export_of_another_organization_s_product_is_a_404(client_for, outsider, documented):
    response = client_for(outsider).get(CSV, {"productId": documented.pk, "from": 0})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [f"No product {documented.pk}: it does not exist or is not visible to you."]
    }


def test_products_are_exported_one_by_one(client, organization, ingest):
    first = ProductFactory(organization=organization)
    second = ProductFactory(organization=organization)
    ingest(first, {"time": T0, "data": {"pvPower": 1}})
    ingest(second, {"time": T0, "data": {"pvPower": 2}})
    rows = json.loads(
        body(client.get(JSON, {"productId": second.pk, "from": 0, "fields": "pvPower"}))
    )
    assert rows == [{"time": "2024-03-25T12:00:00.000+00:00", "pvPower": 2}]
