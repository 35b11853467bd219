"""POST /api/v2/eis/tests/{id}/import/: an instrument file's sweep as the test's EIS data.

The files are written here in each instrument's own layout (headers included) with
impedances computed from a known circuit, R0 + R1 || C1, whose Im(Z) is negative; each test
reads the stored rows back through the API."""

from __future__ import annotations

import io
import math
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batterydb.models import EISData
from tests.batterydb.factories import EISDataFactory, EISTestFactory

FREQUENCIES = [10_000 * 10 ** (-i / 6) for i in range(31)]  # 10 kHz to 0.1 Hz


def circuit(r0: float, r1: float, c1: float) -> list[tuple[float, float, float]]:
    """(frequency, Re(Z), Im(Z)) of R0 + R1 || C1 at ``FREQUENCIES``."""
    points = []
    for frequency in FREQUENCIES:
        z = r0 + r1 / (1 + 1j * 2 * math.pi * frequency * r1 * c1)
        points.append((frequency, z.real, z.imag))
    return points


SWEEP_1 = circuit(0.010, 0.020, 0.5)
SWEEP_2 = circuit(0.012, 0.025, 0.4)
SWEEP_3 = circuit(0.015, 0.030, 0.3)


def mpt(sweeps, *, decimal_comma: bool = False) -> bytes:
    """An EC-Lab PEIS text export: its header block, the column line, tab-separated rows
    ending in a tab, Windows-1252, CRLF; EC-Lab writes -Im(Z)."""
    columns = [
        "freq/Hz",
        "Re(Z)/Ohm",
        "-Im(Z)/Ohm",
        "|Z|/Ohm",
        "Phase(Z)/deg",
        "time/s",
        "<Ewe>/V",
        "<I>/mA",
        "Cs/µF",
        "cycle number",
    ]
    header = [
        "EC-Lab ASCII FILE",
        "Nb header lines : 9",
        "",
        "Potentio Electrochemical Impedance Spectroscopy",
        "",
        "Run on channel : 1 (SN 0001)",
        "Ewe ctrl range : min = -10,00 V, max = 10,00 V",
        "fi                  10,000 kHz",
        "\t".join(columns),
    ]
    lines = list(header)
    for cycle, points in enumerate(sweeps, start=1):
        for index, (frequency, real, imag) in enumerate(points):
            modulus = math.hypot(real, imag)
            values = [
                frequency,
                real,
                -imag,
                modulus,
                math.degrees(math.atan2(imag, real)),
                index * 1.5,
                3.7,
                0.0,
                1e6,
                float(cycle),
            ]
            text = "\t".join(f"{value:.7E}" for value in values) + "\t"
            lines.append(text.replace(".", ",") if decimal_comma else text)
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def dta(sweeps) -> bytes:
    """A Gamry EISPOT file: the EXPLAIN header and one ZCURVE table per sweep; Zimag is Im(Z)."""
    lines = [
        "EXPLAIN",
        "TAG\tEISPOT",
        "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
        "DATE\tLABEL\t11/27/2026\tDate",
        "TIME\tLABEL\t10:00:00\tTime",
        "VDC\tPOTEN\t0.00000E+000\tF\tDC &Voltage (V)",
        "FREQINIT\tQUANT\t1.00000E+004\tInitial Freq. (Hz)",
        "NOTES\tNOTES\t1\t&Notes...",
        "\t",
    ]
    for points in sweeps:
        lines += [
            "ZCURVE\tTABLE",
            "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange",
            "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tA\tV\t#",
        ]
        for index, (frequency, real, imag) in enumerate(points):
            modulus = math.hypot(real, imag)
            phase = math.degrees(math.atan2(imag, real))
            lines.append(
                f"\t{index}\t{index * 2}\t{frequency:.6E}\t{real:.6E}\t{imag:.6E}\t1\t"
                f"{modulus:.6E}\t{phase:.6E}\t0\t3.7\t5"
            )
        lines.append("EXPERIMENTABORTED\tTOGGLE\tF\tExperiment Aborted")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def csv_file(points, *, header: str, separator: str = ",", minus_imag: bool = False) -> bytes:
    lines = [header]
    for frequency, real, imag in points:
        values = [frequency, real, -imag if minus_imag else imag]
        text = separator.join(repr(value) for value in values)
        lines.append(text.replace(".", ",") if separator == ";" else text)
    return ("\n".join(lines) + "\n").encode()


def xlsx_file(sweeps) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Cell 7, EIS at 50 % SOC"])
    sheet.append([])
    sheet.append(["Sweep", "Frequency (Hz)", "Z_real (mOhm)", "-Z_imag (mOhm)"])
    for number, points in enumerate(sweeps, start=1):
        for frequency, real, imag in points:
            sheet.append([number, frequency, real * 1000, -imag * 1000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def url(test) -> str:
    return reverse("batterydb:eis-test-import", kwargs={"pk": test.pk})


def stored_points(client, test) -> list[tuple[float, float, float]]:
    """(frequency, z_real, z_imag) of the test, as the API lists them."""
    response = client.get(
        reverse("batterydb:eis-data-list"), {"test": test.pk, "limit": 1000}, format="json"
    )
    assert response.status_code == 200
    rows = response.json()["results"]
    by_frequency: dict[float, dict[str, float]] = {}
    for row in rows:
        by_frequency.setdefault(row["frequency"], {})[row["parameter"]] = row["value"]
    return sorted(
        ((f, values["z_real"], values["z_imag"]) for f, values in by_frequency.items()),
        reverse=True,
    )


def assert_same(actual, expected, *, rel=1e-6):
    assert len(actual) == len(expected)
    for got, want in zip(actual, sorted(expected, reverse=True), strict=True):
        assert got == pytest.approx(want, rel=rel, abs=1e-12)


@pytest.fixture
def test(organization):
    return EISTestFactory(organization=organization)


def multipart(client):
    """The client, its bodies sent as multipart forms."""
    client.default_format = "multipart"
    return client


@pytest.fixture
def writer(client_for, member):
    return multipart(client_for(member))


# --- formats --------------------------------------------------------------------------------------
def test_biologic_mpt_sweep_is_stored_with_im_z_negative(writer, test):
    response = writer.post(url(test), {"file": upload(mpt([SWEEP_1]), "cell7.mpt")})

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "test": test.pk,
        "format": "biologic-mpt",
        "sweeps": 1,
        "sweep": 1,
        "points": 31,
        "created": 62,
        "replaced": 0,
    }
    points = stored_points(writer, test)
    assert_same(points, SWEEP_1)
    assert all(imag < 0 for _, _, imag in points)


def test_biologic_mpt_with_decimal_commas_is_read(writer, test):
    response = writer.post(url(test), {"file": upload(mpt([SWEEP_1], decimal_comma=True), "a.mpt")})

    assert response.status_code == 201, response.json()
    assert_same(stored_points(writer, test), SWEEP_1)


def test_multi_sweep_mpt_imports_the_first_sweep_by_default_and_the_one_asked_for(
    writer, organization
):
    first, second = (
        EISTestFactory(organization=organization),
        EISTestFactory(organization=organization),
    )
    content = mpt([SWEEP_1, SWEEP_2, SWEEP_3])

    default = writer.post(url(first), {"file": upload(content, "loops.mpt")})
    asked = writer.post(url(second), {"file": upload(content, "loops.mpt"), "sweep": "2"})

    assert default.status_code == 201 and asked.status_code == 201
    assert default.json()["sweeps"] == 3 and asked.json()["sweep"] == 2
    assert_same(stored_points(writer, first), SWEEP_1)
    assert_same(stored_points(writer, second), SWEEP_2)


def test_sweep_can_be_given_as_a_query_parameter(writer, test):
    response = writer.post(
        f"{url(test)}?sweep=3", {"file": upload(mpt([SWEEP_1, SWEEP_2, SWEEP_3]), "x.mpt")}
    )

    assert response.status_code == 201
    assert_same(stored_points(writer, test), SWEEP_3)


def test_a_sweep_the_file_does_not_hold_is_a_400_on_sweep(writer, test):
    response = writer.post(
        url(test), {"file": upload(mpt([SWEEP_1, SWEEP_2]), "x.mpt"), "sweep": 3}
    )

    assert response.status_code == 400
    assert response.json() == {"sweep": ["The file holds 2 sweeps; sweep 3 was asked for."]}
    assert not EISData.objects.filter(test=test).exists()


def test_gamry_dta_keeps_zimag_as_im_z(writer, organization):
    first, second = (
        EISTestFactory(organization=organization),
        EISTestFactory(organization=organization),
    )
    content = dta([SWEEP_1, SWEEP_2])

    response = writer.post(url(first), {"file": upload(content, "EIS_cell7.DTA")})
    writer.post(url(second), {"file": upload(content, "EIS_cell7.DTA"), "sweep": 2})

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "gamry-dta"
    assert response.json()["sweeps"] == 2
    assert_same(stored_points(writer, first), SWEEP_1)
    assert_same(stored_points(writer, second), SWEEP_2)


@pytest.mark.parametrize(
    ("header", "separator", "minus_imag"),
    [
        ("frequency,z_real,z_imag", ",", False),
        ("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", "\t", True),
        ("Frequency (Hz);Z' (Ohm);-Z'' (Ohm)", ";", True),
    ],
)
def test_csv_files_are_read_by_their_column_names(writer, test, header, separator, minus_imag):
    content = csv_file(SWEEP_1, header=header, separator=separator, minus_imag=minus_imag)

    response = writer.post(url(test), {"file": upload(content, "sweep.csv")})

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "csv"
    assert_same(stored_points(writer, test), SWEEP_1)


def test_csv_without_a_sweep_column_splits_sweeps_where_the_frequency_starts_again(writer, test):
    content = csv_file(SWEEP_1 + SWEEP_2, header="frequency,z_real,z_imag")

    response = writer.post(url(test), {"file": upload(content, "two.csv"), "sweep": 2})

    assert response.status_code == 201
    assert response.json()["sweeps"] == 2
    assert_same(stored_points(writer, test), SWEEP_2)


def test_xlsx_with_title_rows_milliohms_and_a_sweep_column(writer, test):
    response = writer.post(
        url(test), {"file": upload(xlsx_file([SWEEP_1, SWEEP_2]), "cell7.xlsx"), "sweep": 2}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "xlsx"
    assert response.json()["sweeps"] == 2
    assert_same(stored_points(writer, test), SWEEP_2)


# --- bad files ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"BIO-LOGIC MODULAR FILE\x1a" + bytes(200), "run.mpr", "should start a module"),
        (b"", "empty.csv", "file is empty"),
        (b"time,voltage\n0,3.7\n1,3.6\n", "cycling.csv", "No header line naming the columns"),
        (b"\x00\x01\x02garbage" * 50, "data.bin", "Not a text file"),
        (b"PK\x03\x04 not really a zip", "book.xlsx", "Not a valid .xlsx file"),
        (b"frequency,z_real,z_imag\n1000,0.01,-0.002\n100,abc,-0.003\n", "s.csv", "Line 3"),
        (b"frequency,z_real,z_imag\n1000,0.01,-0.002\n-5,0.01,-0.003\n", "s.csv", "positive"),
        (b"frequency,z_real,z_imag\n1000,0.01,nan\n", "s.csv", "finite"),
        (
            b"EC-Lab ASCII FILE\r\nNb header lines : 3\r\ntime/s\tEwe/V\r\n1\t3.7\r\n",
            "c.mpt",
            "-Im(Z)/Ohm",
        ),
        (b"EXPLAIN\r\nTAG\tCV\r\nCURVE\tTABLE\r\n", "cv.dta", "no ZCURVE table"),
    ],
)
def test_a_file_that_does_not_parse_is_a_400_that_says_why(writer, test, content, name, message):
    response = writer.post(url(test), {"file": upload(content, name)})

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert message in response.json()["file"][0]
    assert not EISData.objects.filter(test=test).exists()


def test_a_repeated_frequency_writes_nothing(writer, test):
    content = csv_file([SWEEP_1[0], SWEEP_1[1], SWEEP_1[1]], header="frequency,z_real,z_imag")

    response = writer.post(url(test), {"file": upload(content, "s.csv")})

    assert response.status_code == 400
    assert "repeats a frequency" in response.json()["file"][0]
    assert not EISData.objects.filter(test=test).exists()


def test_points_already_stored_are_refused_unless_replace_is_asked(writer, test):
    frequency = SWEEP_1[0][0]
    stored = EISDataFactory(test=test, frequency=frequency, parameter="z_real", value=99.0)
    content = mpt([SWEEP_1])

    refused = writer.post(url(test), {"file": upload(content, "a.mpt")})
    assert refused.status_code == 400
    assert "already stored" in refused.json()["file"][0]
    assert EISData.objects.filter(test=test).count() == 1

    replaced = writer.post(f"{url(test)}?on_conflict=replace", {"file": upload(content, "a.mpt")})
    assert replaced.status_code == 201
    assert replaced.json()["replaced"] == 1 and replaced.json()["created"] == 61
    stored.refresh_from_db()
    assert stored.value == pytest.approx(SWEEP_1[0][1])


def test_on_conflict_takes_only_its_values(writer, test):
    response = writer.post(
        url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt"), "on_conflict": "merge"}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["on_conflict"]


def test_missing_file_is_a_400_on_file(writer, test):
    response = writer.post(url(test), {"sweep": 1})

    assert response.status_code == 400
    assert list(response.json()) == ["file"]


# --- limits -------------------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_a_413(writer, test, settings):
    settings.EIS_IMPORT_MAX_SIZE = 1000

    response = writer.post(url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")})

    assert response.status_code == 413
    assert "limited to 1000 bytes" in response.json()["detail"]


def test_a_sweep_over_the_points_limit_is_refused(writer, test, settings):
    settings.EIS_IMPORT_MAX_POINTS = 30

    response = writer.post(url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")})

    assert response.status_code == 400
    assert "Sweep 1 has 31 points; at most 30" in response.json()["file"][0]


def test_a_spreadsheet_expanding_past_the_limit_is_refused_before_it_is_opened(
    writer, test, settings
):
    settings.EIS_IMPORT_MAX_EXPANDED_SIZE = 10 * 2**20
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 2**20))

    response = writer.post(url(test), {"file": upload(buffer.getvalue(), "bomb.xlsx")})

    assert response.status_code == 400
    assert "expands to" in response.json()["file"][0]


def test_parsing_past_the_memory_limit_is_a_400(writer, test, settings):
    settings.EIS_IMPORT_PARSE_MEMORY_MB = 30  # below what reading a spreadsheet needs

    response = writer.post(url(test), {"file": upload(xlsx_file([SWEEP_1]), "a.xlsx")})

    assert response.status_code == 400
    # Out of memory, CPython raises MemoryError or, inside some C code, SystemError.
    message = response.json()["file"][0]
    assert "within the server's limits" in message or "SystemError" in message
    assert not EISData.objects.filter(test=test).exists()


# --- permissions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 401), ("outsider", 404), ("viewer", 403), ("member", 201), ("owner", 201)],
)
def test_permissions(request, client_for, test, who, expected):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = multipart(client_for(user))

    response = client.post(url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")})

    assert response.status_code == expected
    assert EISData.objects.filter(test=test).exists() == (expected == 201)


def test_a_missing_test_is_a_404(writer, test):
    response = writer.post(
        reverse("batterydb:eis-test-import", kwargs={"pk": test.pk + 1000}),
        {"file": upload(mpt([SWEEP_1]), "a.mpt")},
    )

    assert response.status_code == 404


def test_the_route_without_its_trailing_slash_imports_too(writer, test):
    response = writer.post(url(test).rstrip("/"), {"file": upload(mpt([SWEEP_1]), "a.mpt")})

    assert response.status_code == 201


def test_a_sweep_number_beyond_the_limit_is_a_400_on_sweep(writer, test):
    response = writer.post(url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt"), "sweep": 2**63})

    assert response.status_code == 400
    assert list(response.json()) == ["sweep"]


def test_a_file_larger_than_an_ordinary_body_is_accepted_up_to_the_upload_limit(writer, test):
    content = csv_file(SWEEP_1 * 1500 + SWEEP_2, header="frequency,z_real,z_imag")
    assert len(content) > 2 * 2**20  # over the ordinary 2 MB body limit

    response = writer.post(url(test), {"file": upload(content, "long.csv"), "sweep": 1501})

    assert response.status_code == 201, response.json()
    assert response.json()["sweeps"] == 1501
    assert_same(stored_points(writer, test), SWEEP_2)
