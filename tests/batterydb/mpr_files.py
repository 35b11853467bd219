"""BioLogic .mpr files written byte by byte, in the layouts EC-Lab writes, for the import tests.

The column types are stated here on their own (not taken from the reader) so that a test
checks the reader's layout against this independent statement of it. ``peis`` writes the file
of a PEIS run: settings, data and log modules, the data table with the flag byte, time,
frequency, Re(Z), -Im(Z), |Z|, phase, <Ewe>, <I>, I Range and the ``z cycle`` of each point.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

FILE_HEADER = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"

# Column ids EC-Lab writes, with their struct types.
MODE, OX_RED, ERROR, CONTROL_CHANGES, NS_CHANGES, COUNTER_INC = 1, 2, 3, 21, 31, 65
FLAG_IDS = {MODE, OX_RED, ERROR, CONTROL_CHANGES, NS_CHANGES, COUNTER_INC}
TIME, EWE, CURRENT, CYCLE_NUMBER = 4, 6, 8, 24
FREQUENCY, MODULUS, PHASE, RE_Z, MINUS_IM_Z = 32, 36, 35, 37, 38
I_RANGE, MEAN_CURRENT, MEAN_EWE, Q_QO, Z_CYCLE = 39, 76, 77, 13, 469
TYPES = {
    TIME: "d",
    EWE: "f",
    CURRENT: "f",
    CYCLE_NUMBER: "d",
    FREQUENCY: "f",
    MODULUS: "f",
    PHASE: "f",
    RE_Z: "f",
    MINUS_IM_Z: "f",
    I_RANGE: "H",
    MEAN_CURRENT: "f",
    MEAN_EWE: "f",
    Q_QO: "d",
    Z_CYCLE: "I",
}
PEIS_COLUMNS = [
    MODE,
    OX_RED,
    ERROR,
    CONTROL_CHANGES,
    NS_CHANGES,
    COUNTER_INC,
    TIME,
    FREQUENCY,
    RE_Z,
    MINUS_IM_Z,
    MODULUS,
    PHASE,
    MEAN_EWE,
    MEAN_CURRENT,
    I_RANGE,
    Z_CYCLE,
]
#: The older version 0 table holds one-byte ids: the sweep is told by ``cycle number``.
PEIS_COLUMNS_BY_CYCLE_NUMBER = [*PEIS_COLUMNS[:-1], CYCLE_NUMBER]
GCPL_COLUMNS = [MODE, OX_RED, ERROR, CONTROL_CHANGES, TIME, EWE, CURRENT, Q_QO, CYCLE_NUMBER]
PEIS, GCPL = 0x1D, 0x04


def f32(value: float) -> float:
    """``value`` as the float32 the file stores."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def module(
    short_name: str,
    long_name: str,
    body: bytes,
    *,
    layout: str,
    version: int,
    length: int | None = None,
    magic: bytes = b"MODULE",
) -> bytes:
    """A module: ``magic``, the header of ``layout`` ("old": before EC-Lab 11.50, "new": from
    11.50, with 0xFFFFFFFF after the long name) and the body; ``length`` overrides the
    declared length."""
    declared = len(body) if length is None else length
    names = short_name.encode().ljust(10) + long_name.encode().ljust(25)
    date = b"11/27/26"
    if layout == "old":
        header = names + struct.pack("<II", declared, version) + date
    else:
        kind = 11 if short_name == "VMP data" else 10
        header = names + struct.pack("<IIII", 0xFFFFFFFF, declared, version, kind) + date
    return magic + header + body


def record(column_ids: Sequence[int], values: dict[int, float]) -> bytes:
    """One point: the flags packed in one byte where the first flag column is, then each
    column in its type."""
    out = b""
    flags_written = False
    for column_id in column_ids:
        if column_id in FLAG_IDS:
            if not flags_written:
                out += bytes([values.get("flags", 0)])
                flags_written = True
        else:
            value = values[column_id]
            code = TYPES[column_id]
            out += struct.pack("<" + code, int(value) if code in "HI" else value)
    return out


def data_body(
    column_ids: Sequence[int],
    rows: Sequence[dict],
    *,
    version: int,
    points: int | None = None,
) -> bytes:
    """The data module's body of ``version`` (0: one-byte ids, records at 100; "0-new": the
    EC-Lab 11.50 version 0, uint16 ids from byte 6, records at 1007; 2 and 3: uint16 ids,
    records at 405 and 406); ``points`` overrides the declared count."""
    count = len(rows) if points is None else points
    head = struct.pack("<IB", count, len(column_ids))
    if version == 0:
        head += bytes(column_ids)
        head = head.ljust(100, b"\x00")
    elif version == "0-new":
        head += b"\x00" + struct.pack(f"<{len(column_ids)}H", *column_ids)
        head = head.ljust(1006, b"\x00") + b"\x01"
    else:
        head += struct.pack(f"<{len(column_ids)}H", *column_ids)
        head = head.ljust(405, b"\x00")
        if version == 3:
            head += b"\x01"
    return head + b"".join(record(column_ids, row) for row in rows)


def mpr_file(*modules: bytes) -> bytes:
    return FILE_HEADER + b"".join(modules)


def settings_body(technique: int) -> bytes:
    """A settings module's body: the technique byte, an empty comment, zeros."""
    return bytes([technique, 0]).ljust(0x260, b"\x00")


def peis_rows(sweeps: Sequence[Sequence[tuple[float, float, float]]]) -> list[dict]:
    """The table's rows for ``(frequency, Re(Z), Im(Z))`` sweeps: -Im(Z) stored, z cycle
    counted from 1."""
    rows = []
    for number, points in enumerate(sweeps, start=1):
        for index, (frequency, real, imag) in enumerate(points):
            rows.append(
                {
                    "flags": 0x02,
                    TIME: 10.0 * number + index,
                    FREQUENCY: frequency,
                    RE_Z: real,
                    MINUS_IM_Z: -imag,
                    MODULUS: math.hypot(real, imag),
                    PHASE: math.degrees(math.atan2(imag, real)),
                    MEAN_EWE: 3.7,
                    MEAN_CURRENT: 0.0,
                    I_RANGE: 12,
                    Z_CYCLE: number,
                    CYCLE_NUMBER: float(number),
                }
            )
    return rows


def peis(
    sweeps: Sequence[Sequence[tuple[float, float, float]]],
    *,
    layout: str = "old",
    version: int | str | None = None,
    columns: Sequence[int] = PEIS_COLUMNS,
    technique: int = PEIS,
) -> bytes:
    """A PEIS run's .mpr file in ``layout``; the data module's ``version`` defaults to the one
    each layout's EC-Lab writes (2 for "old", the 11.50 version 0 for "new")."""
    if version is None:
        version = 2 if layout == "old" else "0-new"
    module_version = 0 if version == "0-new" else version
    return mpr_file(
        module("VMP Set", "VMP settings", settings_body(technique), layout=layout, version=0),
        module(
            "VMP data",
            "VMP data",
            data_body(columns, peis_rows(sweeps), version=version),
            layout=layout,
            version=module_version,
        ),
        module("VMP LOG", "VMP LOG", bytes(600), layout=layout, version=0),
    )


def expected(points: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """The points as the file stores them (float32), Im(Z) as the platform keeps it."""
    return [(f32(f), f32(real), -f32(-imag)) for f, real, imag in points]
