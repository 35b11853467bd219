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
* **MF4** (``.mf4``, ASAM MDF 4 bus logging, recognised by its ``MDF     `` start too):
  read through asammdf, imported only when an MF4 log is read. Its ``CAN_DataFrame`` channel
  groups are read group by group, a fragment of at most ``MF4_FRAGMENT_BYTES`` of records at
  a time (timestamps absolute: the header's start time plus each record's time); error and
  remote frame groups are skipped. Before a group is read, each of its compressed blocks is
  inflated once with a bound (``MAX_MF4_BLOCK_BYTES``, real loggers write 4 MB) and must
  expand to exactly its declared size, so that a lying block cannot take the worker's memory;
  LZ4 and Zstandard blocks (MDF 4.3) are refused. A group that yields fewer records than its
  header counts (a truncated file) is an error, not a shorter log.

A file that is not a log of its format raises ``ValueError`` naming the line (candump) or the
reader's complaint. ``progress`` is called with the fraction of the file read.

python-can imports asammdf when it is imported, if it is installed, and asammdf imports
pandas, canmatrix and openpyxl: 1.1 s and 78 MB more in each process importing python-can or
cantools (which imports python-can). :func:`asammdf_left_out` imports them without it.
"""

from __future__ import annotations

import contextlib
import gc
import io
import math
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

Frame = tuple[float, int, bool, bytes]

FORMATS = {
    ".log": "candump",
    ".candump": "candump",
    ".asc": "asc",
    ".blf": "blf",
    ".trc": "trc",
    ".mf4": "mf4",
}
FORMAT_NAMES = {
    "candump": "candump",
    "asc": "Vector ASC",
    "blf": "Vector BLF",
    "trc": "PCAN TRC",
    "mf4": "MF4 (ASAM MDF)",
}
MAX_BLF_CONTAINER_BYTES = 16 * 2**20
#: The largest MF4 data block accepted, compressed or expanded (real loggers write 4 MB).
MAX_MF4_BLOCK_BYTES = 16 * 2**20
#: Records of an MF4 channel group read at a time, in bytes.
MF4_FRAGMENT_BYTES = 4 * 2**20
#: Frames between two calls of ``progress``.
PROGRESS_EVERY = 50_000
# Timestamps a database can hold as a date (years 1970 to 9999 here: logs are recent).
_MAX_TIMESTAMP = 253_402_300_799.0
_CAN_ERR_FLAG = 0x20000000
_CAN_RTR_FLAG = 0x40000000


class CANLogError(ValueError):
    """The file is not a CAN log of its format; the message says where."""


def log_format(path: Path, name: str) -> str:
    """The log's format (``candump``, ``asc``, ``blf``, ``trc``, ``mf4``) from its name, checked
    against its first bytes; raises :class:`CANLogError` for a name or content it does not
    recognise."""
    suffix = Path(name).suffix.lower()
    with open(path, "rb") as file:
        head = file.read(4096)
    if head.startswith(b"LOGG"):
        return "blf"
    if head.startswith(b"MDF     "):
        return "mf4"
    if suffix not in FORMATS:
        raise CANLogError(
            f"The file name {name!r} does not say which CAN log format it is: name it .log "
            "(candump -L), .asc or .blf (Vector), .trc (PCAN) or .mf4 (ASAM MDF)."
        )
    kind = FORMATS[suffix]
    if kind == "blf":
        raise CANLogError("Not a Vector BLF log: the file does not start with 'LOGG'.")
    if kind == "mf4":
        raise CANLogError("Not an MF4 (ASAM MDF) log: the file does not start with 'MDF'.")
    if b"\x00" in head:
        raise CANLogError(f"Not a {FORMAT_NAMES[kind]} log: the file is binary, not text.")
    return kind


def read_frames(
    path: Path, kind: str, *, progress: Callable[[float], None] | None = None
) -> Iterator[Frame]:
    """The data frames of the log at ``path`` in the file's order, as
    ``(timestamp, frame_id, is_extended, data)``; remote and error frames are left out."""
    if kind == "mf4":
        yield from _mf4_frames(path, progress)
        return
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
@contextlib.contextmanager
def asammdf_left_out() -> Iterator[None]:
    """Within, a first import of python-can (or of cantools, which imports it) leaves asammdf
    out: python-can then finds no asammdf and goes without its own MF4 reader and writer (MF4
    logs are read here through asammdf directly). Once python-can or asammdf is imported, it
    changes nothing."""
    if "can" in sys.modules or "asammdf" in sys.modules:
        yield
        return
    sys.modules["asammdf"] = None  # an import of it raises ImportError
    try:
        yield
    finally:
        if "asammdf" in sys.modules and sys.modules["asammdf"] is None:
            del sys.modules["asammdf"]


def _python_can_frames(raw, kind: str) -> Iterator[Frame]:
    with asammdf_left_out():
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
    with asammdf_left_out():
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


# --- MF4 ----------------------------------------------------------------------------------------
_MF4 = "Not a valid MF4 (ASAM MDF) log"
_MF4_FRAME = "CAN_DataFrame"
# Data bytes of a CAN FD frame by its DLC (below 9, the DLC is the length).
_FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)


def _mf4_frames(path: Path, progress: Callable[[float], None] | None) -> Iterator[Frame]:
    """The data frames of each CAN data frame channel group in turn, a fragment at a time."""
    with open(path, "rb") as file:
        mdf, start = _open_mdf(file, path)
        try:
            groups = _mf4_can_groups(mdf)
            total = max(sum(records for _, records in groups), 1)
            done = 0
            for index, records in groups:
                _check_mf4_blocks(file, mdf.groups[index])
                read = 0
                for fragment in _mf4_fragments(mdf, index):
                    read += len(fragment.timestamps)
                    yield from _mf4_fragment_frames(fragment, start)
                    if progress is not None:
                        progress(min((done + read) / total, 1.0))
                if read != records:
                    raise CANLogError(
                        f"{_MF4}: channel group {index} holds {read} of the {records} records "
                        "its header counts (is the file truncated?)."
                    )
                done += records
        except CANLogError:
            raise
        except Exception as exc:  # asammdf's structures of a damaged file, unusual channels
            raise CANLogError(f"{_MF4}: {_complaint(exc)}") from None
        finally:
            mdf.close()
    if progress is not None:
        progress(1.0)


def _open_mdf(file, path: Path):
    """asammdf's reader of the file and the file's start time (seconds since the epoch)."""
    from asammdf import MDF

    complaint, hook = None, sys.unraisablehook
    # asammdf's reader of a file it cannot read fails again when it is collected (in
    # __del__, printing a traceback): that second failure is left unreported.
    sys.unraisablehook = lambda unraisable: None
    try:
        try:
            # A file object, not a path: asammdf would map the file into memory, and every
            # page it reads would count in the worker's resident memory. No bus logging map:
            # asammdf would read every frame id of the file to make it.
            mdf = MDF(file, process_bus_logging=False)
        except Exception as exc:  # asammdf raises many kinds on a broken file
            complaint = _complaint(exc).replace(repr(str(path)), "it").replace(str(path), "it")
        if complaint is not None:
            gc.collect()  # the half-made reader is in reference cycles
    finally:
        sys.unraisablehook = hook
    if complaint is not None:
        raise CANLogError(f"{_MF4}: the file is damaged or cut short ({complaint}).")
    try:
        if not str(mdf.version).startswith("4"):
            raise CANLogError(
                f"Not an MF4 log: the file is MDF version {mdf.version}; CAN bus logging is "
                "stored in MDF 4."
            )
        mdf.configure(read_fragment_size=MF4_FRAGMENT_BYTES)
        start = mdf.header.start_time.timestamp()
    except CANLogError:
        mdf.close()
        raise
    except Exception as exc:
        mdf.close()
        raise CANLogError(f"{_MF4}: {_complaint(exc)}") from None
    return mdf, start


def _complaint(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


def _mf4_can_groups(mdf) -> list[tuple[int, int]]:
    """``(group index, record count)`` of the channel groups holding CAN data frames, as
    asammdf finds them (bus event groups of a CAN or other bus with a ``CAN_DataFrame``)."""
    from asammdf.blocks import v4_constants as v4c

    groups = []
    for index, group in enumerate(mdf.groups):
        channel_group = group.channel_group
        source = channel_group.acq_source
        if (
            channel_group.flags & v4c.FLAG_CG_BUS_EVENT
            and source is not None
            and source.bus_type in (v4c.BUS_TYPE_CAN, v4c.BUS_TYPE_OTHER)
            and any(channel.name == _MF4_FRAME for channel in group.channels)
            and channel_group.cycles_nr
        ):
            groups.append((index, channel_group.cycles_nr))
    return groups


def _check_mf4_blocks(file, group) -> None:
    """Each compressed block of the group (records, invalidation bits, variable-length data)
    inflated with a bound: it must expand to exactly its declared size, at most
    ``MAX_MF4_BLOCK_BYTES`` (asammdf inflates a block whole, however far it expands)."""
    from asammdf.blocks import v4_constants as v4c

    blocks = []
    for info in group.data_blocks:
        blocks.append(info)
        invalidation = getattr(info, "invalidation_block", None)
        if invalidation is not None and not invalidation.all_valid:
            blocks.append(invalidation)
    for entry in group.signal_data:
        blocks.extend(entry or ())
    for info in blocks:
        kind = info.block_type
        if kind == v4c.DT_BLOCK:
            continue  # asammdf reads uncompressed blocks in pieces of 4 MB at most
        if kind not in (v4c.DZ_BLOCK_DEFLATE, v4c.DZ_BLOCK_TRANSPOSED):
            raise CANLogError(
                "Not a usable MF4 log: its data blocks are compressed with LZ4 or Zstandard "
                "(MDF 4.3); save it uncompressed or with deflate (MDF 4.1 or 4.2)."
            )
        expanded, packed = info.original_size or 0, info.compressed_size or 0
        if max(expanded, packed) > MAX_MF4_BLOCK_BYTES:
            raise CANLogError(
                f"Not a usable MF4 log: a data block of {max(expanded, packed):,} bytes "
                f"exceeds {MAX_MF4_BLOCK_BYTES:,} bytes."
            )
        file.seek(info.address)
        inflater = zlib.decompressobj()
        try:
            size = len(inflater.decompress(file.read(packed), expanded + 1))
        except zlib.error as exc:
            raise CANLogError(f"{_MF4}: a compressed data block is damaged ({exc}).") from None
        if size != expanded:
            actual = "beyond" if size > expanded else f"to {size:,} bytes, not"
            raise CANLogError(
                f"{_MF4}: a compressed data block expands {actual} the {expanded:,} bytes "
                "it declares."
            )


def _mf4_fragments(mdf, index: int):
    """The group's records a fragment at a time (asammdf prints its reading rate on stdout
    when a fragment's consumer takes over 10 s: left unprinted)."""
    fragments = mdf.iter_get(_MF4_FRAME, group=index, raw=True)
    while True:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            fragment = next(fragments, None)
        if fragment is None:
            return
        yield fragment


def _mf4_fragment_frames(fragment, start: float) -> Iterator[Frame]:
    """The frames of one fragment of a ``CAN_DataFrame`` group's records."""
    records = fragment.samples
    names = records.dtype.names or ()

    def field(name: str):
        return records[f"{_MF4_FRAME}.{name}"] if f"{_MF4_FRAME}.{name}" in names else None

    ids, payload = field("ID"), field("DataBytes")
    if ids is None or payload is None:
        raise CANLogError(f"{_MF4}: its CAN data frames have no ID or DataBytes channel.")
    ids = ids.astype("u8")
    extended = field("IDE")
    extended = (ids & 0x80000000 != 0) if extended is None else extended != 0
    count = len(ids)
    lengths = field("DataLength")
    if lengths is not None:
        lengths = lengths.tolist()
    elif (dlcs := field("DLC")) is not None:
        fd = field("EDL")
        fd = [False] * count if fd is None else (fd != 0).tolist()
        lengths = [
            _FD_LENGTHS[dlc & 15] if is_fd else min(dlc, 8)
            for dlc, is_fd in zip(dlcs.tolist(), fd, strict=True)
        ]
    if payload.dtype.kind == "u" and payload.ndim == 2:  # fixed-size data bytes in the record
        width = payload.shape[1]
        rows = payload.tobytes()
        data = [rows[i * width : (i + 1) * width] for i in range(count)]
    else:  # variable-length data bytes (numpy drops trailing zero bytes: padded back)
        data = [bytes(value) for value in payload.tolist()]
        if lengths is not None:
            pairs = zip(data, lengths, strict=True)
            data = [value.ljust(length, b"\x00") for value, length in pairs]
    if lengths is None:
        lengths = [len(value) for value in data]
    times = (fragment.timestamps + start).tolist()
    for timestamp, can_id, is_extended, length, raw in zip(
        times, (ids & 0x1FFFFFFF).tolist(), extended.tolist(), lengths, data, strict=True
    ):
        if not (0 <= timestamp <= _MAX_TIMESTAMP):
            raise CANLogError(f"A frame's timestamp ({timestamp}) is out of range.")
        yield timestamp, can_id, is_extended, raw[:length]
