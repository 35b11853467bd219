"""BioLogic binary .mpr files through POST /api/v2/eis/tests/{id}/import/, and their reader.

The files are written by ``tests.batterydb.mpr_files`` in both module header layouts (before
and from EC-Lab 11.50) with a PEIS table of two sweeps of R0 + R1 || C1, told apart by ``z
cycle``; EC-Lab stores -Im(Z) as float32, so the rows read back are the float32 values with
the sign turned."""

from __future__ import annotations

import re
import struct

import pytest

from batterydb.models import EISData
from batterydb.readers.biologic import read_mpr
from batterydb.readers.instruments import read_eis_file
from tests.batterydb import mpr_files
from tests.batterydb.factories import EISTestFactory
from tests.batterydb.mpr_files import (
    GCPL,
    GCPL_COLUMNS,
    PEIS,
    PEIS_COLUMNS,
    PEIS_COLUMNS_BY_CYCLE_NUMBER,
    data_body,
    expected,
    module,
    mpr_file,
    peis,
    peis_rows,
    settings_body,
)
from tests.batterydb.test_import_instruments import (
    SWEEP_1,
    SWEEP_2,
    assert_same,
    stored_points,
    upload,
    url,
)

LAYOUTS = [
    pytest.param("old", 2, PEIS_COLUMNS, id="old-header-data-v2"),
    pytest.param("old", 3, PEIS_COLUMNS, id="old-header-data-v3"),
    pytest.param("old", 0, PEIS_COLUMNS_BY_CYCLE_NUMBER, id="old-header-data-v0"),
    pytest.param("new", "0-new", PEIS_COLUMNS, id="new-header-data-v0"),
    pytest.param("new", 3, PEIS_COLUMNS, id="new-header-data-v3"),
]


@pytest.fixture
def test(organization):
    return EISTestFactory(organization=organization)


@pytest.fixture
def writer(client_for, member):
    client = client_for(member)
    client.default_format = "multipart"
    return client


def read(raw: bytes, *, sweep: int = 1, max_rows: int = 10_000) -> dict:
    return read_eis_file(
        raw,
        file_name="run.mpr",
        sweep=sweep,
        max_points=10_000,
        max_rows=max_rows,
        max_expanded_bytes=2**20,
    )


def gcpl() -> bytes:
    """A galvanostatic cycling run: time, Ewe, I, (Q-Qo) and cycle number, no impedance."""
    rows = [
        {"flags": 1, 4: 10.0 * i, 6: 3.6 + i / 100, 8: 500.0, 13: i * 0.1, 24: 1.0}
        for i in range(5)
    ]
    return with_data(data_body(GCPL_COLUMNS, rows, version=2), technique=GCPL)


def with_data(
    body: bytes,
    *,
    length: int | None = None,
    layout: str = "old",
    version: int = 2,
    technique: int = PEIS,
    magic: bytes = b"MODULE",
) -> bytes:
    """A file of a settings module and the data module ``body`` (the last one)."""
    return mpr_file(
        module("VMP Set", "VMP settings", settings_body(technique), layout=layout, version=0),
        module(
            "VMP data", "VMP data", body, layout=layout, version=version, length=length, magic=magic
        ),
    )


ROWS = peis_rows([SWEEP_1, SWEEP_2])
TABLE = data_body(PEIS_COLUMNS, ROWS, version=2)
BAD_FILES = [
    pytest.param(with_data(TABLE)[:-10], "the file is truncated", id="truncated-data"),
    pytest.param(
        with_data(data_body([*PEIS_COLUMNS[:-1], 999], [], version=2)),
        "column 16 has id 999, which is not known",
        id="unknown-column-id",
    ),
    pytest.param(
        with_data(data_body(PEIS_COLUMNS, ROWS, version=2, points=len(ROWS) + 1)),
        f"declares {len(ROWS) + 1} points of 43 bytes",
        id="count-exceeds-the-module-length",
    ),
    pytest.param(
        with_data(TABLE, length=10**6),
        "'VMP data' declares 1000000 bytes",
        id="module-length-exceeds-the-file",
    ),
    pytest.param(
        with_data(TABLE, magic=b"MODULF"),
        "should start a module with 'MODULE'; found b'MODULF'",
        id="wrong-module-magic",
    ),
    pytest.param(gcpl(), "holds no EIS data (technique GCPL)", id="not-eis"),
    pytest.param(
        with_data(data_body(PEIS_COLUMNS, ROWS, version=2), version=1),
        "version 1; versions 0, 2 and 3 are read",
        id="data-module-version-1",
    ),
    pytest.param(b"MODULE" + bytes(300), "does not start with", id="no-file-magic"),
    pytest.param(
        mpr_file(module("VMP Set", "VMP settings", settings_body(PEIS), layout="new", version=0)),
        "has 0 data modules",
        id="no-data-module",
    ),
]


# --- through the API ------------------------------------------------------------------------------
@pytest.mark.parametrize(("layout", "version", "columns"), LAYOUTS)
def test_an_mpr_sweep_is_stored_with_im_z_negative(writer, test, layout, version, columns):
    content = peis([SWEEP_1, SWEEP_2], layout=layout, version=version, columns=columns)

    response = writer.post(url(test), {"file": upload(content, "cell7_PEIS_C01.mpr")})

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "test": test.pk,
        "format": "biologic-mpr",
        "sweeps": 2,
        "sweep": 1,
        "points": 31,
        "created": 62,
        "replaced": 0,
    }
    points = stored_points(writer, test)
    assert_same(points, expected(SWEEP_1), rel=1e-9)
    assert all(imag < 0 for _, _, imag in points)


@pytest.mark.parametrize(("layout", "version", "columns"), LAYOUTS)
def test_sweep_2_of_an_mpr_file_is_the_second_z_cycle(writer, test, layout, version, columns):
    content = peis([SWEEP_1, SWEEP_2], layout=layout, version=version, columns=columns)

    response = writer.post(url(test), {"file": upload(content, "cell7.mpr"), "sweep": 2})

    assert response.status_code == 201, response.json()
    assert response.json()["sweep"] == 2
    assert_same(stored_points(writer, test), expected(SWEEP_2), rel=1e-9)


def test_an_mpr_file_is_known_by_its_content_whatever_its_name(writer, test):
    response = writer.post(url(test), {"file": upload(peis([SWEEP_1]), "export.bin")})

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "biologic-mpr"


def test_a_sweep_the_mpr_file_does_not_hold_is_a_400_on_sweep(writer, test):
    response = writer.post(
        url(test), {"file": upload(peis([SWEEP_1, SWEEP_2]), "a.mpr"), "sweep": 3}
    )

    assert response.status_code == 400
    assert response.json() == {"sweep": ["The file holds 2 sweeps; sweep 3 was asked for."]}
    assert not EISData.objects.filter(test=test).exists()


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_mpr_file_is_a_400_that_says_why_and_stores_nothing(writer, test, content, message):
    response = writer.post(url(test), {"file": upload(content, "run.mpr")})

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert message in response.json()["file"][0]
    assert not EISData.objects.filter(test=test).exists()


def test_an_mpr_table_over_the_row_limit_is_refused_before_it_is_read(writer, test, settings):
    settings.EIS_IMPORT_MAX_ROWS = 40

    response = writer.post(url(test), {"file": upload(peis([SWEEP_1, SWEEP_2]), "a.mpr")})

    assert response.status_code == 400
    assert "declares 62 points; at most 40 are read" in response.json()["file"][0]


# --- the reader -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("layout", "version", "columns"), LAYOUTS)
def test_read_mpr_lists_the_modules_the_technique_and_the_table(layout, version, columns):
    mpr = read_mpr(
        peis([SWEEP_1, SWEEP_2], layout=layout, version=version, columns=columns), max_rows=100
    )

    assert [(m.short_name, m.long_name, m.layout) for m in mpr.modules] == [
        ("VMP Set", "VMP settings", layout),
        ("VMP data", "VMP data", layout),
        ("VMP LOG", "VMP LOG", layout),
    ]
    assert mpr.modules[0].date == "11/27/26"
    assert mpr.technique == "PEIS"
    assert mpr.points == 62
    assert mpr.column_names[:10] == [
        "mode",
        "ox/red",
        "error",
        "control changes",
        "Ns changes",
        "counter inc.",
        "time/s",
        "freq/Hz",
        "Re(Z)/Ohm",
        "-Im(Z)/Ohm",
    ]
    # One byte of flags, time (float64), seven float32, I Range (uint16), the sweep column.
    assert mpr.record.size == 1 + 8 + 7 * 4 + 2 + (8 if version == 0 else 4)


def test_read_mpr_columns_are_the_values_written():
    mpr = read_mpr(peis([SWEEP_1, SWEEP_2]), max_rows=100)

    time, frequency, minus_imag, cycle, i_range = mpr.columns([4, 32, 38, 469, 39])

    assert list(time) == [row[4] for row in ROWS]
    assert list(frequency) == [mpr_files.f32(f) for f, _, _ in SWEEP_1 + SWEEP_2]
    assert list(minus_imag) == [mpr_files.f32(-imag) for _, _, imag in SWEEP_1 + SWEEP_2]
    assert list(cycle) == [1.0] * 31 + [2.0] * 31
    assert list(i_range) == [12.0] * 62
    with pytest.raises(KeyError):
        mpr.columns([24])


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_read_eis_file_refuses_a_bad_mpr_file_with_its_message(content, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read(content)


def test_read_mpr_refuses_more_rows_than_allowed_before_decoding():
    with pytest.raises(ValueError, match="declares 62 points; at most 61 are read"):
        read_mpr(peis([SWEEP_1, SWEEP_2]), max_rows=61)


def test_a_table_with_more_column_ids_than_its_header_holds_is_refused():
    body = struct.pack("<IB", 0, 250) + bytes(range(1, 251)).ljust(500, b"\x00")

    with pytest.raises(ValueError, match="declares 250 columns, more than its header holds"):
        read_mpr(with_data(body), max_rows=100)


def test_a_module_header_cut_short_is_refused():
    content = with_data(TABLE)
    cut = content.index(b"VMP data") + 20

    with pytest.raises(ValueError, match="ends inside the module header"):
        read_mpr(content[:cut], max_rows=100)


def test_without_a_sweep_column_sweeps_split_where_the_frequency_starts_again():
    columns = [c for c in PEIS_COLUMNS if c != mpr_files.Z_CYCLE]

    result = read(peis([SWEEP_1, SWEEP_2], columns=columns), sweep=2)

    assert result["sweeps"] == 2
    assert result["points"] == expected(SWEEP_2)


def test_the_cycle_number_tells_sweeps_apart_when_there_is_no_z_cycle():
    result = read(peis([SWEEP_1, SWEEP_2], columns=PEIS_COLUMNS_BY_CYCLE_NUMBER), sweep=1)

    assert result["sweeps"] == 2
    assert result["points"] == expected(SWEEP_1)


def test_a_value_that_is_not_finite_names_its_point():
    rows = peis_rows([SWEEP_1])
    rows[4][mpr_files.RE_Z] = float("nan")

    with pytest.raises(ValueError, match=r"Point 5: Re\(Z\)/Ohm is nan"):
        read(with_data(data_body(PEIS_COLUMNS, rows, version=2)))


def test_a_frequency_that_is_not_positive_names_its_point():
    rows = peis_rows([SWEEP_1])
    rows[0][mpr_files.FREQUENCY] = 0.0

    with pytest.raises(ValueError, match="Point 1: the frequency must be positive"):
        read(with_data(data_body(PEIS_COLUMNS, rows, version=2)))


def test_the_largest_mpr_file_accepted_is_read_within_the_default_limits(writer, test):
    # 86 sweeps of 10,000 points in records of frequency, Re(Z) and -Im(Z) only (12 bytes):
    # close to the 10 MB upload limit, the most points a file can bring.
    frequencies = [1e5 * 10 ** (-i * 7 / 9999) for i in range(10_000)]
    columns = [mpr_files.FREQUENCY, mpr_files.RE_Z, mpr_files.MINUS_IM_Z]
    point = struct.Struct("<fff")
    records = b"".join(
        point.pack(f, 0.01 + k * 1e-4, 0.001) for k in range(86) for f in frequencies
    )
    content = with_data(data_body(columns, [], version=2, points=860_000) + records)
    assert 9.5 * 2**20 < len(content) <= 10 * 2**20

    response = writer.post(url(test), {"file": upload(content, "long.mpr"), "sweep": 87})

    # Parsed whole (no memory or time limit hit), split where the frequency starts again.
    assert response.status_code == 400
    assert response.json() == {"sweep": ["The file holds 86 sweeps; sweep 87 was asked for."]}
