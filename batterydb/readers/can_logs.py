"""CAN frames out of log files, read as a stream: one frame in memory at a time.

:func:`read_frames` yields ``(timestamp, frame_id, is_extended, data)`` from a log on disk,
``timestamp`` in seconds since the Unix epoch (UTC). Formats, chosen by the file's name and
checked against its first bytes:

* **candump** (``.log``, ``candump -L``): ``(1700000000.000100) can0 123#11223344``, read by
  the parser below (python-can's reads each byte in Python and names no line on an error);
  CAN FD (``##``) frames too; remote and error frames are skipped.
* **Vector ASC** (``.asc``), **Vector BLF** (``.blf``) and **PCAN TRC** (``.trc``):
  python-can's readers (timestamps absolute: ASC from its ``date`` header, BLF from its start
  time, TRC from its start time). A BLF container may expand to at most
  ``MAX_BLF_CONTAINER_BYTES`` (real loggers write 128 KB), so that a compressed bomb cannot
  take the worker's memory.

MF4 (ASAM MDF) is not read: its maintained reader, asammdf, is LGPL-licensed and heavy; convert
MF4 logs to BLF or ASC. A file that is not a log of its format raises ``ValueError`` naming
the line (candump) or the reader's complaint. ``progress`` is called with the fraction of the
file read.
"""

from __future__ import annotations

import io
import math
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

Frame = tuple[float, int, bool, bytes]

FORMATS = {".log": "candump", ".candump": "candump", ".asc": "asc", ".blf": "blf", ".trc": "trc"}
FORMAT_NAMES = {"candump": "candump", "asc": "Vector ASC", "blf": "Vector BLF", "trc": "PCAN TRC"}
MAX_BLF_CONTAINER_BYTES = 16 * 2**20
#: Frames between two calls of ``progress``.
PROGRESS_EVERY = 50_000
# Timestamps a database can hold as a date (years 1970 to 9999 here: logs are recent).
_MAX_TIMESTAMP = 253_402_300_799.0
_CAN_ERR_FLAG = 0x20000000
_CAN_RTR_FLAG = 0x40000000


class CANLogError(ValueError):
    """The file is not a CAN log of its format; the message says where."""


def log_format(path: Path, name: str) -> str:
    """The log's format (``candump``, ``asc``, ``blf``, ``trc``) from its name, checked
    against its first bytes; raises :class:`CANLogError` for a name or content it does not
    recognise."""
    suffix = Path(name).suffix.lower()
    with open(path, "rb") as file:
        head = file.read(4096)
    if head.startswith(b"LOGG"):
        return "blf"
    if suffix == ".mf4" or head.startswith(b"MDF     "):
        raise CANLogError(
            "MF4 (ASAM MDF) logs are not read here; convert the log to BLF or ASC (for "
            "example with asammdf or Vector's tools) and upload that."
        )
    if suffix not in FORMATS:
        raise CANLogError(
            f"The file name {name!r} does not say which CAN log format it is: name it .log "
            "(candump -L), .asc or .blf (Vector) or .trc (PCAN)."
        )
    kind = FORMATS[suffix]
    if kind == "blf":
        raise CANLogError("Not a Vector BLF log: the file does not start with 'LOGG'.")
    if b"\x00" in head:
        raise CANLogError(f"Not a {FORMAT_NAMES[kind]} log: the file is binary, not text.")
    return kind


def read_frames(
    path: Path, kind: str, *, progress: Callable[[float], None] | None = None
) -> Iterator[Frame]:
    """The data frames of the log at ``path`` in the file's order, as
    ``(timestamp, frame_id, is_extended, data)``; remote and error frames are left out."""
    size = max(os.path.getsize(path), 1)
    with open(path, "rb", buffering=0) as raw:

        def report() -> None:
            if progress is not None:
                progress(min(os.lseek(raw.fileno(), 0, os.SEEK_CUR) / size, 1.0))

        if kind == "candump":
            frames = _candump_frames(io.TextIOWrapper(io.BufferedReader(raw), errors="replace"))
        else:
            frames = _python_can_frames(raw, kind)
        for count, frame in enumerate(frames, start=1):
            if count % PROGRESS_EVERY == 0:
                report()
            yield frame
    if progress is not None:
        progress(1.0)  # the readers close the file when they reach its end


# --- candump ------------------------------------------------------------------------------------
def _candump_frames(lines) -> Iterator[Frame]:
    fromhex = bytes.fromhex
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            close = text.index(")")
            if text[0] != "(":
                raise ValueError
            timestamp = float(text[1:close])
            _interface, frame, *_direction = text[close + 1 :].split()
            ident, _, data = frame.partition("#")
            can_id = int(ident, 16)
            if data.startswith("#"):  # CAN FD: "##<flags><data>"
                data = data[2:]
            elif data[:1] in ("R", "r"):
                continue  # a remote frame carries no data
            payload = fromhex(data)
        except ValueError:
            raise CANLogError(
                f"Line {number} is not a candump log line "
                "('(seconds) interface id#data', as candump -L writes): "
                f"{text[:80]!r}"
            ) from None
        if not (0 <= timestamp <= _MAX_TIMESTAMP) or math.isnan(timestamp):
            raise CANLogError(f"Line {number}: the timestamp {timestamp} is out of range.")
        if can_id & (_CAN_ERR_FLAG | _CAN_RTR_FLAG):
            continue
        yield timestamp, can_id & 0x1FFFFFFF, len(ident) > 3, payload


# --- python-can's readers -----------------------------------------------------------------------
def _python_can_frames(raw, kind: str) -> Iterator[Frame]:
    import can

    try:
        if kind == "blf":
            reader = _bounded_blf_reader(io.BufferedReader(raw))
        else:
            text = io.TextIOWrapper(io.BufferedReader(raw), errors="replace")
            if kind == "asc":
                reader = can.ASCReader(text, relative_timestamp=False)
            else:
                reader = can.TRCReader(text)
        for message in reader:
            if message.is_error_frame or message.is_remote_frame:
                continue
            timestamp = message.timestamp
            if not (0 <= timestamp <= _MAX_TIMESTAMP):
                raise CANLogError(f"A frame's timestamp ({timestamp}) is out of range.")
            yield (
                timestamp,
                message.arbitration_id,
                message.is_extended_id,
                bytes(message.data),
            )
    except CANLogError:
        raise
    except Exception as exc:  # the readers raise many kinds on a broken file
        detail = str(exc).strip() or type(exc).__name__
        raise CANLogError(f"Not a valid {FORMAT_NAMES[kind]} log: {detail}") from None


def _blf_reader_class():
    import can
    from can.io import blf

    class BoundedBLFReader(can.BLFReader):
        """python-can's BLF reader, each container's expansion bounded."""

        def __iter__(self):
            header = blf.OBJ_HEADER_BASE_STRUCT
            container = blf.LOG_CONTAINER_STRUCT
            while chunk := self.file.read(header.size):
                if len(chunk) < header.size:
                    raise CANLogError("Not a valid Vector BLF log: it ends inside an object.")
                signature, _, _, size, kind = header.unpack(chunk)
                if signature != b"LOBJ" or size < header.size:
                    raise CANLogError("Not a valid Vector BLF log: an object is damaged.")
                body = self.file.read(size - header.size)
                self.file.read(size % 4)
                if kind != blf.LOG_CONTAINER:
                    continue
                method, _ = container.unpack_from(body)
                packed = body[container.size :]
                if method == blf.NO_COMPRESSION:
                    data = packed
                elif method == blf.ZLIB_DEFLATE:
                    inflater = zlib.decompressobj()
                    data = inflater.decompress(packed, MAX_BLF_CONTAINER_BYTES)
                    if inflater.unconsumed_tail:
                        raise CANLogError(
                            "Not a usable Vector BLF log: a container expands beyond "
                            f"{MAX_BLF_CONTAINER_BYTES:,} bytes."
                        )
                else:
                    raise CANLogError(
                        f"Not a usable Vector BLF log: unknown compression method {method}."
                    )
                yield from self._parse_container(data)
            self.stop()

    return BoundedBLFReader


def _bounded_blf_reader(file):
    """A BoundedBLFReader (its class made on first use: python-can is imported late)."""
    return _blf_reader_class()(file)
