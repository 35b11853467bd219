"""EIS sweeps out of instrument files, run by ``core.bounded`` in a child process with limits.

:func:`read_eis_file` takes the file's bytes and answers the sweeps it holds, as
``(frequency in Hz, Re(Z) in ohm, Im(Z) in ohm)`` points, ``Im(Z)`` negative for a capacitive
response whatever sign the file uses. Formats, recognised by their content (the name only
breaks ties):

* **BioLogic EC-Lab text export (.mpt)**: ``EC-Lab ASCII FILE``, ``Nb header lines : N``, a
  tab-separated table whose columns ``freq/Hz``, ``Re(Z)/Ohm`` and ``-Im(Z)/Ohm`` are read
  (EC-Lab writes -Im(Z): the sign is turned). Sweeps are told apart by ``cycle number`` (or
  ``z cycle``) when the file has it, else by the frequency starting again. Decimal commas are
  read.
* **BioLogic binary (.mpr)**: read by :mod:`batterydb.readers.biologic` (both module header
  layouts, before and from EC-Lab 11.50); the data table's ``freq/Hz``, ``Re(Z)/Ohm`` and
  ``-Im(Z)/Ohm`` columns are read, the sign of the last turned. Sweeps are told apart by
  ``z cycle`` (or ``cycle number``) when the table has it, else by the frequency starting
  again. A file of another technique (no impedance columns) is refused, as is a column id the
  reader does not know (the records' size then cannot be told).
* **Gamry (.dta)**: every ``ZCURVE`` table (``Freq``, ``Zreal``, ``Zimag`` in ohm) is a
  sweep. Gamry writes ``Zimag`` as Im(Z) itself (negative for a capacitive response): kept.
* **CSV** (comma, semicolon or tab) and **spreadsheets (.xlsx)**, first worksheet: a header
  row naming ``frequency``, ``z_real`` and either ``z_imag`` (Im(Z)) or ``-z_imag`` (-Im(Z)),
  optionally ``sweep``; the BioLogic and Gamry names and common spellings (``freq/Hz``,
  ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``Zreal``, ``Z'``, ``-Z''``) and units ``Hz``, ``kHz``,
  ``ohm``, ``mohm`` (or Ω) in the header are understood. Without a sweep column the frequency
  starting again begins a new sweep. A spreadsheet is a ZIP: its expanded size, its number of
  members and their compression ratio are checked before it is opened.

Errors are ``ValueError`` with a message for the person who sent the file (which line, which
column). This module imports nothing of Django.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence

Point = tuple[float, float, float]

MPT_MAGIC = "EC-Lab ASCII FILE"
MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
ZIP_MAGIC = b"PK\x03\x04"
#: Rows searched for the header row of a CSV file or a spreadsheet.
HEADER_SEARCH_ROWS = 50

_FREQUENCY = {"frequency", "freq", "f"}
_REAL = {"z_real", "zreal", "re(z)", "z'", "zre", "real", "re"}
_IMAG = {"z_imag", "zimag", "im(z)", "z''", 'z"', "zim", "imag", "im"}
_SWEEP = {"sweep", "cycle", "cyclenumber", "cycle_number", "zcycle", "z_cycle"}
_UNIT = re.compile(r"^(?P<name>.*?)\s*(?:/\s*(?P<u1>[^/()\[\]]+)|[(\[]\s*(?P<u2>[^()\[\]]+)[)\]])$")
_FREQUENCY_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": None}  # MHz and mHz are ambiguous in lowercase
_OHM_UNITS = {"ohm": 1.0, "ohms": 1.0, "ω": 1.0, "mohm": 1e-3, "mω": 1e-3}


def read_eis_file(
    raw: bytes,
    *,
    file_name: str = "",
    sweep: int = 1,
    max_points: int,
    max_rows: int,
    max_expanded_bytes: int,
    max_zip_members: int = 1000,
    max_compression_ratio: int = 200,
) -> dict:
    """The sweeps of an EIS file: ``{"format", "sweeps", "sweep", "points"}``, ``points``
    being those of sweep number ``sweep`` (1-based) or ``None`` when the file has fewer.

    ``max_points`` bounds the points of one sweep, ``max_rows`` the data rows read in all;
    ``max_expanded_bytes``, ``max_zip_members`` and ``max_compression_ratio`` bound what a
    spreadsheet (a ZIP) expands to."""
    if not raw.strip():
        raise ValueError("The file is empty.")
    name = file_name.lower()
    if raw.startswith(MPR_MAGIC) or name.endswith(".mpr"):
        kind, sweeps = "biologic-mpr", _mpr_sweeps(raw, max_rows=max_rows)
    elif raw.startswith(ZIP_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        kind, sweeps = (
            "xlsx",
            _table_sweeps(
                _xlsx_rows(
                    raw,
                    max_rows=max_rows,
                    max_expanded_bytes=max_expanded_bytes,
                    max_members=max_zip_members,
                    max_ratio=max_compression_ratio,
                ),
                where="row",
            ),
        )
    else:
        text = _decode(raw)
        lines = text.splitlines()
        if len(lines) > max_rows + 10_000:
            raise ValueError(f"The file has more than {max_rows} data rows.")
        if lines and lines[0].strip().startswith(MPT_MAGIC):
            kind, sweeps = "biologic-mpt", _mpt_sweeps(lines)
        elif _is_gamry(lines):
            kind, sweeps = "gamry-dta", _dta_sweeps(lines)
        else:
            kind, sweeps = "csv", _table_sweeps(_csv_rows(text), where="line")
    sweeps = [points for points in sweeps if points]
    if not sweeps:
        raise ValueError("The file holds no impedance data points.")
    for number, points in enumerate(sweeps, start=1):
        if len(points) > max_points:
            raise ValueError(
                f"Sweep {number} has {len(points)} points; at most {max_points} are accepted."
            )
    chosen = sweeps[sweep - 1] if 1 <= sweep <= len(sweeps) else None
    return {"format": kind, "sweeps": len(sweeps), "sweep": sweep, "points": chosen}


# --- text ---------------------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    """Instrument software writes UTF-8 or Windows-1252 (EC-Lab's "µ", Gamry's "°")."""
    if b"\x00" in raw[:4096]:
        raise ValueError("Not a text file: an instrument export, CSV or .xlsx file is expected.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _number(text: str, *, where: str, column: str) -> float:
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise ValueError(f"{where}: {column} {value!r} is not a number.") from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {column} is {value!r}; finite numbers are needed.")
    return number


def _point(frequency: float, real: float, imag: float, *, where: str) -> Point:
    if frequency <= 0:
        raise ValueError(f"{where}: the frequency must be positive (got {frequency:g}).")
    return (frequency, real, imag)


def _split_on_restart(points: list[Point]) -> list[list[Point]]:
    """Sweeps of a file without a sweep column: a new one starts where the frequency goes
    back the way it came from (a sweep from high to low frequency starting high again)."""
    if len(points) < 3:
        return [points]
    descending = points[1][0] < points[0][0]
    sweeps, current = [], [points[0]]
    for previous, point in itertools.pairwise(points):
        restart = point[0] > previous[0] if descending else point[0] < previous[0]
        if restart and len(current) > 1:
            sweeps.append(current)
            current = []
        current.append(point)
    sweeps.append(current)
    return sweeps


def _group(points: Iterable[tuple[float | None, Point]]) -> list[list[Point]]:
    """Points tagged with a sweep number (or None when the file has none) into sweeps, in the
    order each sweep number first appears."""
    tagged = list(points)
    if not tagged or tagged[0][0] is None:
        return _split_on_restart([point for _, point in tagged])
    groups: dict[float, list[Point]] = {}
    for number, point in tagged:
        groups.setdefault(number, []).append(point)
    return list(groups.values())


# --- BioLogic .mpt --------------------------------------------------------------------------------
_MPT_HEADER_LINES = re.compile(r"Nb header lines\s*:\s*(\d+)", re.I)


def _mpt_sweeps(lines: list[str]) -> list[list[Point]]:
    match = _MPT_HEADER_LINES.search(lines[1]) if len(lines) > 1 else None
    if match is None:
        raise ValueError("Line 2 of an EC-Lab file should read 'Nb header lines : N'.")
    header_count = int(match.group(1))
    if not 3 <= header_count <= len(lines):
        raise ValueError(f"The file declares {header_count} header lines but has {len(lines)}.")
    columns = [name.strip() for name in lines[header_count - 1].split("\t")]
    index = {name: position for position, name in enumerate(columns)}
    needed = ("freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm")
    missing = [name for name in needed if name not in index]
    if missing:
        raise ValueError(
            f"Line {header_count}: the EC-Lab table has no column {', '.join(missing)} "
            "(an impedance technique such as PEIS or GEIS writes them)."
        )
    frequency, real, minus_imag = (index[name] for name in needed)
    cycle = index.get("cycle number", index.get("z cycle"))
    tagged = []
    for number, line in enumerate(lines[header_count:], start=header_count + 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        where = f"Line {number}"
        if len(fields) < len(columns) - 1:
            raise ValueError(f"{where}: {len(fields)} columns where the header has {len(columns)}.")
        point = _point(
            _number(fields[frequency], where=where, column="freq/Hz"),
            _number(fields[real], where=where, column="Re(Z)/Ohm"),
            # EC-Lab writes -Im(Z); the platform stores Im(Z).
            -_number(fields[minus_imag], where=where, column="-Im(Z)/Ohm"),
            where=where,
        )
        sweep = (
            _number(fields[cycle], where=where, column=columns[cycle])
            if cycle is not None
            else None
        )
        tagged.append((sweep, point))
    return _group(tagged)


# --- BioLogic .mpr --------------------------------------------------------------------------------
_MPR_FREQUENCY, _MPR_REAL, _MPR_MINUS_IMAG = 32, 37, 38
_MPR_SWEEP = (469, 24)  # z cycle, cycle number


def _mpr_sweeps(raw: bytes, *, max_rows: int) -> list[list[Point]]:
    # Imported here: the other formats' parsing, under the same memory limit, need not pay
    # for it (dataclasses brings inspect along).
    from batterydb.readers.biologic import COLUMNS, read_mpr

    mpr = read_mpr(raw, max_rows=max_rows)
    needed = (_MPR_FREQUENCY, _MPR_REAL, _MPR_MINUS_IMAG)
    missing = [COLUMNS[i][0] for i in needed if i not in mpr.column_ids]
    if missing:
        technique = f" (technique {mpr.technique})" if mpr.technique else ""
        raise ValueError(
            f"The .mpr file holds no EIS data{technique}: its table has no column "
            f"{', '.join(missing)} (an impedance technique such as PEIS or GEIS writes them)."
        )
    names = [COLUMNS[i][0] for i in needed]
    sweep = next((i for i in _MPR_SWEEP if i in mpr.column_ids), None)
    columns = mpr.columns([*needed, sweep] if sweep is not None else needed)
    # Points go straight into their sweeps (no tagged list as _group builds): a table of
    # short records holds close to a million points in the largest file accepted.
    by_number: dict[float, list[Point]] = {}
    points: list[Point] = []
    for index in range(mpr.points):
        where = f"Point {index + 1}"
        frequency, real, minus_imag = columns[0][index], columns[1][index], columns[2][index]
        for value, column in zip((frequency, real, minus_imag), names, strict=True):
            if not math.isfinite(value):
                raise ValueError(f"{where}: {column} is {value!r}; finite numbers are needed.")
        # EC-Lab stores -Im(Z); the platform stores Im(Z).
        point = _point(frequency, real, -minus_imag, where=where)
        if sweep is None:
            points.append(point)
        else:
            by_number.setdefault(columns[3][index], []).append(point)
    return list(by_number.values()) if sweep is not None else _split_on_restart(points)


# --- Gamry .dta ---------------------------------------------------------------------------------
def _is_gamry(lines: list[str]) -> bool:
    head = [line.split("\t")[0].strip() for line in lines[:5]]
    return "EXPLAIN" in head or any(
        line.startswith("ZCURVE\tTABLE") for line in lines[: HEADER_SEARCH_ROWS * 4]
    )


def _dta_sweeps(lines: list[str]) -> list[list[Point]]:
    sweeps: list[list[Point]] = []
    position = 0
    while position < len(lines):
        fields = lines[position].split("\t")
        if not (fields[0].startswith("ZCURVE") and len(fields) > 1 and fields[1] == "TABLE"):
            position += 1
            continue
        if position + 2 >= len(lines):
            raise ValueError(f"Line {position + 1}: the ZCURVE table has no column header.")
        columns = [name.strip() for name in lines[position + 1].split("\t")]
        index = {name: i for i, name in enumerate(columns)}
        missing = [name for name in ("Freq", "Zreal", "Zimag") if name not in index]
        if missing:
            raise ValueError(
                f"Line {position + 2}: the ZCURVE table has no column {', '.join(missing)}."
            )
        units = [unit.strip().lower() for unit in lines[position + 2].split("\t")]
        for name in ("Zreal", "Zimag"):
            unit = units[index[name]] if index[name] < len(units) else ""
            if unit not in ("ohm", "ohms", ""):
                raise ValueError(f"Line {position + 3}: {name} is in {unit!r}; ohm is expected.")
        points = []
        position += 3
        while position < len(lines) and lines[position].startswith("\t"):
            fields = lines[position].split("\t")
            where = f"Line {position + 1}"
            if len(fields) < len(columns):
                raise ValueError(
                    f"{where}: {len(fields)} columns where the table has {len(columns)}."
                )
            points.append(
                _point(
                    _number(fields[index["Freq"]], where=where, column="Freq"),
                    _number(fields[index["Zreal"]], where=where, column="Zreal"),
                    # Gamry's Zimag is Im(Z) itself, negative for a capacitive response.
                    _number(fields[index["Zimag"]], where=where, column="Zimag"),
                    where=where,
                )
            )
            position += 1
        sweeps.append(points)
    if not sweeps:
        raise ValueError("The Gamry file has no ZCURVE table (no impedance sweep).")
    return sweeps


# --- CSV and spreadsheets -------------------------------------------------------------------------
def _csv_rows(text: str) -> Iterable[Sequence]:
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = max(",;\t", key=lambda candidate: sample.count(candidate))
    return csv.reader(io.StringIO(text), delimiter=delimiter)


def _xlsx_rows(
    raw: bytes, *, max_rows: int, max_expanded_bytes: int, max_members: int, max_ratio: int
) -> Iterable[Sequence]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"Not a valid .xlsx file: {exc}") from None
    members = archive.infolist()
    if len(members) > max_members:
        raise ValueError(f"The spreadsheet has {len(members)} parts; at most {max_members}.")
    expanded = sum(member.file_size for member in members)
    if expanded > max_expanded_bytes:
        raise ValueError(
            f"The spreadsheet expands to {expanded} bytes; at most {max_expanded_bytes} are "
            "accepted."
        )
    for member in members:
        if member.file_size > max(member.compress_size, 1) * max_ratio and member.file_size > 2**20:
            raise ValueError(
                f"The spreadsheet part {member.filename} is compressed more than {max_ratio} "
                "to 1; refused as a possible ZIP bomb."
            )
    openpyxl = _import_openpyxl()

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise ValueError(f"Not a readable .xlsx file: {exc}") from None
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > max_rows + HEADER_SEARCH_ROWS:
            raise ValueError(f"The spreadsheet has more than {max_rows} data rows.")
        yield ["" if cell is None else str(cell) for cell in row]


def _import_openpyxl():
    """openpyxl without NumPy, which it imports when it can: NumPy's OpenBLAS reserves its
    buffers at load and ends the process (rather than raising) when the child's memory limit
    refuses them. openpyxl needs NumPy only to write NumPy's number types."""
    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        import openpyxl

        return openpyxl
    sys.modules["numpy"] = None  # makes "import numpy" raise ImportError
    try:
        import openpyxl
    finally:
        del sys.modules["numpy"]
    return openpyxl


def _column_role(heading: str) -> tuple[str, float, bool] | None:
    """``(role, scale, negated)`` of a column heading, or None for a column not read."""
    text = heading.strip().replace("\u2212", "-").replace("\u2032", "'").replace("\u2033", "''")
    unit = ""
    if match := _UNIT.match(text):
        candidate = (match.group("u1") or match.group("u2") or "").strip().lower()
        if candidate in _FREQUENCY_UNITS or candidate in _OHM_UNITS:
            text, unit = match.group("name"), candidate
    name = re.sub(r"\s+", "", text.lower())
    unit = unit.strip().lower()
    negated = name.startswith("-")
    name = name.lstrip("-")
    if name in _SWEEP and not negated:
        return ("sweep", 1.0, False)
    if name in _FREQUENCY and not negated:
        if not unit:
            return ("frequency", 1.0, False)
        if _FREQUENCY_UNITS.get(unit) is None:
            raise ValueError(f"Column {heading!r}: frequencies in {unit!r} are not read; use Hz.")
        return ("frequency", _FREQUENCY_UNITS[unit], False)
    if name in _REAL or name in _IMAG:
        if unit and unit not in _OHM_UNITS:
            raise ValueError(f"Column {heading!r}: impedances in {unit!r} are not read; use ohm.")
        scale = _OHM_UNITS.get(unit, 1.0)
        if name in _REAL:
            return None if negated else ("real", scale, False)
        return ("imag", scale, negated)
    return None


def _header(rows: Iterable[Sequence], where: str):
    """The column roles from the first row that names a frequency, a real and an imaginary
    part, and the rows after it with their numbers."""
    iterator = iter(enumerate(rows, start=1))
    for number, row in iterator:
        roles = {}
        for position, heading in enumerate(row):
            role = _column_role(str(heading)) if str(heading).strip() else None
            if role is not None and role[0] not in roles:
                roles[role[0]] = (position, *role[1:])
        if {"frequency", "real", "imag"} <= roles.keys():
            return roles, iterator
        if number >= HEADER_SEARCH_ROWS:
            break
    raise ValueError(
        f"No header {where} naming the columns frequency, z_real and z_imag (Im(Z)) or "
        "-z_imag (-Im(Z)) was found in the first "
        f"{HEADER_SEARCH_ROWS} {where}s."
    )


def _table_sweeps(rows: Iterable[Sequence], *, where: str) -> list[list[Point]]:
    roles, numbered = _header(rows, where)
    frequency, real, imag = roles["frequency"], roles["real"], roles["imag"]
    sweep = roles.get("sweep")
    width = max(position for position, *_ in roles.values()) + 1
    tagged = []
    for number, row in numbered:
        if not any(str(cell).strip() for cell in row):
            continue
        place = f"{where.capitalize()} {number}"
        if len(row) < width:
            raise ValueError(f"{place}: {len(row)} columns where the header has {width}.")
        imag_value = _number(row[imag[0]], where=place, column="z_imag") * imag[1]
        point = _point(
            _number(row[frequency[0]], where=place, column="frequency") * frequency[1],
            _number(row[real[0]], where=place, column="z_real") * real[1],
            -imag_value if imag[2] else imag_value,
            where=place,
        )
        number_of_sweep = (
            _number(row[sweep[0]], where=place, column="sweep") if sweep is not None else None
        )
        tagged.append((number_of_sweep, point))
    return _group(tagged)
