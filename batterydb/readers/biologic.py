"""BioLogic EC-Lab binary files (.mpr): the container, its modules and the data table.

BioLogic publishes no description of the format; the layout below is the one the open readers
agree on (the MIT-licensed ``biologic-converter`` among them), checked here at every step so
that a file that does not follow it is refused with a message rather than misread.

* The file starts with ``BIO-LOGIC MODULAR FILE``, ``0x1A``, spaces up to byte 48 and four
  zero bytes (52 bytes in all), then holds a sequence of modules to its end.
* A module starts with ``MODULE`` and a header: a short name (10 bytes, space-padded: ``VMP
  Set``, ``VMP data``, ``VMP LOG``, ``VMP loop``), a long name (25 bytes), then, in files of
  EC-Lab before 11.50, the body's length (uint32), a version (uint32) and a date (8 ASCII
  characters): 51 bytes. From EC-Lab 11.50 the long name is followed by ``0xFFFFFFFF``, the
  length, the version, a fourth uint32 and the date: 59 bytes. All integers little-endian.
* The ``VMP Set`` body's first byte is the technique (``0x1D`` PEIS, ``0x1E`` GEIS, ``0x04``
  GCPL, ...).
* The ``VMP data`` body holds the number of points (uint32) and of columns (one byte), the
  column ids, then from a fixed offset the points as fixed-size little-endian records, one
  field per column in the ids' order. The ids and that offset depend on the module's version:
  version 0 with one byte per id from byte 5 and records from byte 100 (older files) or, when
  byte 5 is zero, uint16 ids from byte 6 and records from byte 1007 (EC-Lab 11.50 on);
  versions 2 and 3 with uint16 ids from byte 5 and records from byte 405 and 406.
* Each id has a type (:data:`COLUMNS`); the flag ids (:data:`FLAGS`: mode, ox/red, error, ...)
  share one byte, placed where the first of them appears. A record's size is thus known only
  when every id is: an unknown id refuses the file, naming the id.

Only ``struct`` is used: NumPy's OpenBLAS reserves memory at import, which the bounded child's
limit would refuse. The count of points is checked against the module's length, and that
against the file, before anything is decoded.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FILE_MAGIC = b"BIO-LOGIC MODULAR FILE"
FILE_HEADER_SIZE = 52
MODULE_MAGIC = b"MODULE"
#: Bytes 35 to 39 of a module header (after the magic) in files of EC-Lab 11.50 and later.
NEW_HEADER_MARK = b"\xff\xff\xff\xff"
_HEADER_OLD = struct.Struct("<10s25sII8s")  # short name, long name, length, version, date
_HEADER_NEW = struct.Struct("<10s25sIIII8s")  # ..., 0xFFFFFFFF, length, version, ?, date

#: Column id: (name as EC-Lab's text export writes it, struct type). f: float32, d: float64,
#: H: uint16, I: uint32.
COLUMNS: dict[int, tuple[str, str]] = {
    4: ("time/s", "d"),
    5: ("control/V/mA", "f"),
    6: ("Ewe/V", "f"),
    7: ("dq/mA.h", "d"),
    8: ("I/mA", "f"),
    9: ("Ece/V", "f"),
    11: ("<I>/mA", "d"),
    13: ("(Q-Qo)/mA.h", "d"),
    16: ("Analog IN 1/V", "f"),
    17: ("Analog IN 2/V", "f"),
    19: ("control/V", "f"),
    20: ("control/mA", "f"),
    23: ("dQ/mA.h", "d"),
    24: ("cycle number", "d"),
    32: ("freq/Hz", "f"),
    33: ("|Ewe|/V", "f"),
    34: ("|I|/A", "f"),
    35: ("Phase(Z)/deg", "f"),
    36: ("|Z|/Ohm", "f"),
    37: ("Re(Z)/Ohm", "f"),
    38: ("-Im(Z)/Ohm", "f"),
    39: ("I Range", "H"),
    70: ("P/W", "f"),
    74: ("|Energy|/W.h", "d"),
    75: ("Analog OUT/V", "f"),
    76: ("<I>/mA", "f"),
    77: ("<Ewe>/V", "f"),
    78: ("Cs-2/µF-2", "f"),
    96: ("|Ece|/V", "f"),
    98: ("Phase(Zce)/deg", "f"),
    99: ("|Zce|/Ohm", "f"),
    100: ("Re(Zce)/Ohm", "f"),
    101: ("-Im(Zce)/Ohm", "f"),
    123: ("Energy charge/W.h", "d"),
    124: ("Energy discharge/W.h", "d"),
    125: ("Capacitance charge/µF", "d"),
    126: ("Capacitance discharge/µF", "d"),
    131: ("Ns", "H"),
    163: ("|Estack|/V", "f"),
    168: ("Rcmp/Ohm", "f"),
    169: ("Cs/µF", "f"),
    172: ("Cp/µF", "f"),
    173: ("Cp-2/µF-2", "f"),
    174: ("<Ewe>/V", "f"),
    241: ("|E1|/V", "f"),
    242: ("|E2|/V", "f"),
    271: ("Phase(Z1)/deg", "f"),
    272: ("Phase(Z2)/deg", "f"),
    301: ("|Z1|/Ohm", "f"),
    302: ("|Z2|/Ohm", "f"),
    331: ("Re(Z1)/Ohm", "f"),
    332: ("Re(Z2)/Ohm", "f"),
    361: ("-Im(Z1)/Ohm", "f"),
    362: ("-Im(Z2)/Ohm", "f"),
    391: ("<E1>/V", "f"),
    392: ("<E2>/V", "f"),
    422: ("Phase(Zstack)/deg", "f"),
    423: ("|Zstack|/Ohm", "f"),
    424: ("Re(Zstack)/Ohm", "f"),
    425: ("-Im(Zstack)/Ohm", "f"),
    426: ("<Estack>/V", "f"),
    430: ("Phase(Zwe-ce)/deg", "f"),
    431: ("|Zwe-ce|/Ohm", "f"),
    432: ("Re(Zwe-ce)/Ohm", "f"),
    433: ("-Im(Zwe-ce)/Ohm", "f"),
    434: ("(Q-Qo)/C", "f"),
    435: ("dQ/C", "f"),
    462: ("Temperature/°C", "f"),
    467: ("Q charge/discharge/mA.h", "d"),
    468: ("half cycle", "I"),
    469: ("z cycle", "I"),
    471: ("<Ece>/V", "f"),
    473: ("THD Ewe/%", "f"),
    474: ("THD I/%", "f"),
    476: ("NSD Ewe/%", "f"),
    477: ("NSD I/%", "f"),
    479: ("NSR Ewe/%", "f"),
    480: ("NSR I/%", "f"),
    **{486 + n: (f"|Ewe h{n + 2}|/V", "f") for n in range(6)},
    **{492 + n: (f"|I h{n + 2}|/A", "f") for n in range(6)},
}
#: Flag column ids: (name, bit mask) within the record's one flags byte.
FLAGS: dict[int, tuple[str, int]] = {
    1: ("mode", 0x03),
    2: ("ox/red", 0x04),
    3: ("error", 0x08),
    21: ("control changes", 0x10),
    31: ("Ns changes", 0x20),
    65: ("counter inc.", 0x80),
}
#: First byte of the ``VMP Set`` module.
TECHNIQUES = {
    0x04: "GCPL",
    0x06: "CV",
    0x0B: "OCV",
    0x18: "CA",
    0x19: "CP",
    0x1C: "WAIT",
    0x1D: "PEIS",
    0x1E: "GEIS",
    0x32: "ZIR",
    0x6C: "LSV",
    0x7F: "MB",
}


@dataclass(frozen=True)
class Module:
    """A module's header: where its body starts in the file and how long it is."""

    short_name: str
    long_name: str
    version: int
    date: str
    layout: str  # "old" (51-byte header) or "new" (59 bytes, EC-Lab 11.50 on)
    start: int
    length: int


@dataclass(frozen=True)
class MprFile:
    """An .mpr file's modules, its technique (None when the settings module names none known)
    and its data table's column ids and point count, checked to fit the file."""

    raw: bytes = field(repr=False)
    modules: tuple[Module, ...]
    technique: str | None
    column_ids: tuple[int, ...]
    points: int
    records_start: int
    record: struct.Struct

    @property
    def column_names(self) -> list[str]:
        return [FLAGS[i][0] if i in FLAGS else COLUMNS[i][0] for i in self.column_ids]

    def columns(self, ids: Sequence[int]) -> list[array[float]]:
        """The values of the data columns ``ids`` (in that order), one array of float64 each
        (8 bytes a value, where a list of floats takes 32); an id the table does not have is
        a ``KeyError``."""
        positions = [self._field(column_id) for column_id in ids]
        values = [array("d") for _ in ids]
        end = self.records_start + self.points * self.record.size
        records = self.record.iter_unpack(memoryview(self.raw)[self.records_start : end])
        for record in records:
            for position, target in zip(positions, values, strict=True):
                target.append(record[position])
        return values

    def _field(self, column_id: int) -> int:
        if column_id in FLAGS:
            raise KeyError(f"column {column_id} is a flag")
        fields = 0
        seen_flags = False
        for candidate in self.column_ids:
            if candidate == column_id:
                return fields
            if candidate in FLAGS:
                if not seen_flags:
                    fields += 1
                    seen_flags = True
            else:
                fields += 1
        raise KeyError(column_id)


def read_mpr(raw: bytes, *, max_rows: int) -> MprFile:
    """The file's modules and data table layout, every length checked against the bytes
    there are; ``ValueError`` saying what does not fit, or a table of more than ``max_rows``
    points."""
    if not raw.startswith(FILE_MAGIC):
        raise ValueError(
            "Not a BioLogic .mpr file: it does not start with 'BIO-LOGIC MODULAR FILE'."
        )
    if len(raw) < FILE_HEADER_SIZE:
        raise ValueError("The .mpr file ends inside its file header.")
    modules = tuple(_modules(raw))
    data = [module for module in modules if module.short_name == "VMP data"]
    if len(data) != 1:
        raise ValueError(
            f"The .mpr file has {len(data)} data modules ('VMP data'); one is expected."
        )
    settings = [module for module in modules if module.short_name == "VMP Set"]
    technique = None
    if settings and settings[0].length:
        technique = TECHNIQUES.get(raw[settings[0].start])
    column_ids, records_start = _table_head(raw, data[0])
    record = _record(column_ids)
    body = data[0].length - records_start
    points = struct.unpack_from("<I", raw, data[0].start)[0]
    if points > max_rows:
        raise ValueError(
            f"The .mpr data module declares {points} points; at most {max_rows} are read."
        )
    if points * record.size != body:
        raise ValueError(
            f"The .mpr data module declares {points} points of {record.size} bytes "
            f"({points * record.size} bytes) but holds {body} bytes of records: the file is "
            "truncated or its layout is not understood."
        )
    return MprFile(
        raw=raw,
        modules=modules,
        technique=technique,
        column_ids=column_ids,
        points=points,
        records_start=data[0].start + records_start,
        record=record,
    )


def _modules(raw: bytes) -> Iterable[Module]:
    position = FILE_HEADER_SIZE
    while position < len(raw):
        found = raw[position : position + len(MODULE_MAGIC)]
        if found != MODULE_MAGIC:
            raise ValueError(
                f"Byte {position} of the .mpr file should start a module with 'MODULE'; "
                f"found {found!r}."
            )
        head = position + len(MODULE_MAGIC)
        if raw[head + 35 : head + 39] == NEW_HEADER_MARK:
            layout, header = "new", _HEADER_NEW
        else:
            layout, header = "old", _HEADER_OLD
        if head + header.size > len(raw):
            raise ValueError(f"The .mpr file ends inside the module header at byte {position}.")
        fields = header.unpack_from(raw, head)
        if layout == "new":
            short, long, _, length, version, _, date = fields
        else:
            short, long, length, version, date = fields
        start = head + header.size
        name = short.decode("latin-1").strip(" \x00")
        if length > len(raw) - start:
            raise ValueError(
                f"The .mpr module '{name}' declares {length} bytes but the file has "
                f"{len(raw) - start} after its header: the file is truncated."
            )
        yield Module(
            short_name=name,
            long_name=long.decode("latin-1").strip(" \x00"),
            version=version,
            date=date.decode("latin-1"),
            layout=layout,
            start=start,
            length=length,
        )
        position = start + length


def _table_head(raw: bytes, module: Module) -> tuple[tuple[int, ...], int]:
    """The data module's column ids and where its records start, relative to its body."""
    body = memoryview(raw)[module.start : module.start + module.length]
    if len(body) < 6:
        raise ValueError("The .mpr data module is too short to hold its table's header.")
    count = body[4]
    if module.version == 0 and body[5] != 0:
        ids_at, width, records_start = 5, 1, 100
    elif module.version == 0:
        ids_at, width, records_start = 6, 2, 1007
    elif module.version in (2, 3):
        ids_at, width, records_start = 5, 2, 405 if module.version == 2 else 406
    else:
        raise ValueError(
            f"The .mpr data module has version {module.version}; versions 0, 2 and 3 are read."
        )
    if count == 0:
        raise ValueError("The .mpr data module declares no columns.")
    if ids_at + count * width > records_start:
        raise ValueError(
            f"The .mpr data module declares {count} columns, more than its header holds."
        )
    if len(body) < records_start:
        raise ValueError(
            f"The .mpr data module has {len(body)} bytes; its records start at byte "
            f"{records_start}."
        )
    code = "B" if width == 1 else "H"
    ids = struct.unpack_from(f"<{count}{code}", body, ids_at)
    return tuple(ids), records_start


def _record(column_ids: Sequence[int]) -> struct.Struct:
    """The record's struct: one field per data column, one byte for all the flags."""
    codes = []
    flags = False
    for position, column_id in enumerate(column_ids, start=1):
        if column_id in FLAGS:
            if not flags:
                codes.append("B")
                flags = True
        elif column_id in COLUMNS:
            codes.append(COLUMNS[column_id][1])
        else:
            raise ValueError(
                f"The .mpr data table's column {position} has id {column_id}, which is not "
                "known: the size of its records cannot be told. Export the data as text from "
                "EC-Lab (an .mpt file) and upload that."
            )
    return struct.Struct("<" + "".join(codes))
