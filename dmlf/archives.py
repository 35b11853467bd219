"""ZIP archives checked before anything is stored, without extracting them.

DMLF's supplementary and experiment files must be ZIP archives. :func:`zip_inspect` reads only
what an archive declares about itself, and refuses it (:class:`ArchiveRejected`, whose message
is for the client) unless:

* its content is a ZIP: it starts with a ZIP signature, and its end record and central
  directory are readable and consistent (the file name does not matter);
* its entries number at most ``max_entries``, their declared uncompressed sizes add up to at
  most ``max_total_size``, and no entry (nor the archive as a whole) expands more than
  ``max_ratio`` times beyond ``ratio_floor`` bytes: zip bombs are refused by what they
  declare, before a byte is decompressed;
* no entry has an absolute path or a ``..`` component (zip slip), is a symbolic link, or is
  encrypted.

The entry count comes from the end record, so an archive declaring 100,000 entries is refused
before its central directory is read; the central directory is then read one entry at a time
(constant memory), and an archive whose directory holds more than it declares is refused.
Archives inside the archive (recognised by their content) are inspected the same way, up to
``max_depth`` levels, their entries and sizes counting towards the same limits; reading a
nested archive decompresses only it, at most its declared size (the CRC check of ``zipfile``
catches a size that lies), into a temporary file.
"""

from __future__ import annotations

import io
import shutil
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings

LOCAL_HEADER = b"PK\x03\x04"
END_RECORD = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END_RECORD = b"PK\x06\x06"
CENTRAL_HEADER = b"PK\x01\x02"

END_FORMAT = struct.Struct("<4s4H2LH")  # 22 bytes
ZIP64_LOCATOR_FORMAT = struct.Struct("<4sLQL")  # 20 bytes
ZIP64_END_FORMAT = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
CENTRAL_FORMAT = struct.Struct("<4s6H3L5H2L")  # 46 bytes
MAX_COMMENT = 0xFFFF
ZIP64_EXTRA = 0x0001

FLAG_ENCRYPTED = 0x1
FLAG_STRONG_ENCRYPTION = 0x40
FLAG_UTF8 = 0x800
METHOD_AES = 99
UNIX_SYSTEMS = (3, 19)  # Unix, OS X: the high 16 bits of the external attributes are a mode

NOT_A_ZIP = "Only zip files are allowed."


class ArchiveRejected(ValueError):
    """The upload is not a ZIP archive this API accepts; the message says why."""


class TooManyEntries(ArchiveRejected):
    """The end record declares more entries than allowed (the directory was not read)."""


@dataclass(frozen=True)
class ZipLimits:
    """What an archive may declare (see the module's docstring)."""

    max_entries: int
    max_total_size: int
    max_ratio: int
    ratio_floor: int
    max_depth: int

    @classmethod
    def from_settings(cls) -> ZipLimits:
        return cls(
            max_entries=settings.DMLF_ZIP_MAX_ENTRIES,
            max_total_size=settings.DMLF_ZIP_MAX_UNCOMPRESSED_SIZE,
            max_ratio=settings.DMLF_ZIP_MAX_RATIO,
            ratio_floor=settings.DMLF_ZIP_RATIO_FLOOR,
            max_depth=settings.DMLF_ZIP_MAX_DEPTH,
        )


@dataclass(frozen=True)
class ZipEntry:
    """One entry of a central directory, as declared."""

    name: str
    size: int
    compressed_size: int
    method: int
    flags: int
    system: int
    external_attributes: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def mode(self) -> int:
        return self.external_attributes >> 16 if self.system in UNIX_SYSTEMS else 0


@dataclass
class ZipSummary:
    """What an accepted archive declares: entries and uncompressed bytes (nested archives'
    included), compressed bytes of the outer archive's entries, and nested archives found."""

    entries: int = 0
    total_size: int = 0
    compressed_size: int = 0
    nested_archives: int = 0
    depth: int = 0
    largest_ratio: float = field(default=0.0)


# --- Reading what the archive declares -------------------------------------------------------


def _size_of(fileobj: BinaryIO) -> int:
    fileobj.seek(0, io.SEEK_END)
    return fileobj.tell()


def _read_exactly(fileobj: BinaryIO, count: int, what: str) -> bytes:
    data = fileobj.read(count)
    if len(data) != count:
        raise ArchiveRejected(f"{NOT_A_ZIP} The archive is cut short ({what}).")
    return data


def _end_of_directory(fileobj: BinaryIO, size: int) -> tuple[int, int, int]:
    """``(entries, directory offset, directory size)`` from the end record (Zip64 too)."""
    tail_length = min(size, END_FORMAT.size + MAX_COMMENT)
    fileobj.seek(size - tail_length)
    tail = fileobj.read(tail_length)
    position = tail.rfind(END_RECORD)
    while position >= 0:
        record = tail[position : position + END_FORMAT.size]
        if len(record) == END_FORMAT.size:
            comment_length = END_FORMAT.unpack(record)[-1]
            if position + END_FORMAT.size + comment_length == tail_length:
                break
        position = tail.rfind(END_RECORD, 0, position)
    if position < 0:
        raise ArchiveRejected(f"{NOT_A_ZIP} It has no end of central directory record.")
    end_offset = size - tail_length + position
    _, disk, directory_disk, disk_entries, entries, directory_size, directory_offset, _ = (
        END_FORMAT.unpack(tail[position : position + END_FORMAT.size])
    )
    directory_end_limit = end_offset
    locator_offset = end_offset - ZIP64_LOCATOR_FORMAT.size
    if locator_offset >= 0:
        fileobj.seek(locator_offset)
        locator = fileobj.read(ZIP64_LOCATOR_FORMAT.size)
        if locator[:4] == ZIP64_LOCATOR:
            _, zip64_disk, zip64_offset, disks = ZIP64_LOCATOR_FORMAT.unpack(locator)
            if zip64_disk != 0 or disks > 1:
                raise ArchiveRejected("Archives split over several files are not accepted.")
            if zip64_offset + ZIP64_END_FORMAT.size > locator_offset:
                raise ArchiveRejected(f"{NOT_A_ZIP} Its Zip64 end record is out of place.")
            fileobj.seek(zip64_offset)
            record = _read_exactly(fileobj, ZIP64_END_FORMAT.size, "Zip64 end record")
            (
                signature,
                _,
                _,
                _,
                disk,
                directory_disk,
                disk_entries,
                entries,
                directory_size,
                directory_offset,
            ) = ZIP64_END_FORMAT.unpack(record)
            if signature != ZIP64_END_RECORD:
                raise ArchiveRejected(f"{NOT_A_ZIP} Its Zip64 end record is unreadable.")
            directory_end_limit = zip64_offset
    if disk != 0 or directory_disk != 0 or disk_entries != entries:
        raise ArchiveRejected("Archives split over several files are not accepted.")
    if directory_offset + directory_size > directory_end_limit:
        raise ArchiveRejected(f"{NOT_A_ZIP} Its central directory lies outside the file.")
    return entries, directory_offset, directory_size


def _zip64_sizes(extra: bytes, size: int, compressed: int) -> tuple[int, int]:
    """The true sizes of an entry whose 32-bit fields say 0xFFFFFFFF (Zip64 extra field)."""
    position = 0
    while position + 4 <= len(extra):
        header, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if header == ZIP64_EXTRA:
            values = [
                struct.unpack_from("<Q", body, offset)[0] for offset in range(0, len(body) - 7, 8)
            ]
            if size == 0xFFFFFFFF:
                if not values:
                    raise ArchiveRejected(f"{NOT_A_ZIP} A Zip64 size is missing.")
                size = values.pop(0)
            if compressed == 0xFFFFFFFF:
                if not values:
                    raise ArchiveRejected(f"{NOT_A_ZIP} A Zip64 size is missing.")
                compressed = values.pop(0)
            return size, compressed
        position += 4 + length
    if 0xFFFFFFFF in (size, compressed):
        raise ArchiveRejected(f"{NOT_A_ZIP} A Zip64 size is missing.")
    return size, compressed


def zip_entries(fileobj: BinaryIO, *, max_entries: int | None = None) -> Iterator[ZipEntry]:
    """The entries a ZIP archive's central directory declares, read one at a time.

    Raises ``ArchiveRejected`` for content that is not a ZIP archive, and, before reading the
    directory, for more than ``max_entries`` declared entries."""
    size = _size_of(fileobj)
    fileobj.seek(0)
    magic = fileobj.read(4)
    if magic not in (LOCAL_HEADER, END_RECORD):
        raise ArchiveRejected(NOT_A_ZIP)
    entries, offset, directory_size = _end_of_directory(fileobj, size)
    if max_entries is not None and entries > max_entries:
        raise TooManyEntries(
            f"The archive has {entries} entries; at most {max_entries} are accepted."
        )
    fileobj.seek(offset)
    consumed = 0
    for _ in range(entries):
        header = _read_exactly(fileobj, CENTRAL_FORMAT.size, "central directory")
        (
            signature,
            made_by,
            _,
            flags,
            method,
            _,
            _,
            _,
            compressed,
            uncompressed,
            name_length,
            extra_length,
            comment_length,
            _,
            _,
            external_attributes,
            _,
        ) = CENTRAL_FORMAT.unpack(header)
        if signature != CENTRAL_HEADER:
            raise ArchiveRejected(f"{NOT_A_ZIP} Its central directory is corrupt.")
        raw_name = _read_exactly(fileobj, name_length, "central directory")
        extra = _read_exactly(fileobj, extra_length, "central directory")
        fileobj.seek(comment_length, io.SEEK_CUR)
        consumed += CENTRAL_FORMAT.size + name_length + extra_length + comment_length
        if consumed > directory_size:
            raise ArchiveRejected(f"{NOT_A_ZIP} Its central directory is corrupt.")
        try:
            name = raw_name.decode("utf-8" if flags & FLAG_UTF8 else "cp437")
        except UnicodeDecodeError as exc:
            raise ArchiveRejected("An entry's name is not valid UTF-8.") from exc
        uncompressed, compressed = _zip64_sizes(extra, uncompressed, compressed)
        yield ZipEntry(
            name=name,
            size=uncompressed,
            compressed_size=compressed,
            method=method,
            flags=flags,
            system=made_by >> 8,
            external_attributes=external_attributes,
        )
    if consumed != directory_size:
        raise ArchiveRejected(
            f"{NOT_A_ZIP} Its central directory holds more than the {entries} entries it declares."
        )


# --- The checks --------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if "\x00" in name:
        raise ArchiveRejected("An entry's name contains a NUL character.")
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
        raise ArchiveRejected(f"The entry {name!r} has an absolute path.")
    if ".." in path.split("/"):
        raise ArchiveRejected(f"The entry {name!r} leads outside the archive ('..').")


def _check_entry(entry: ZipEntry) -> None:
    _check_name(entry.name)
    if entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) or entry.method == METHOD_AES:
        raise ArchiveRejected(f"The entry {entry.name!r} is encrypted.")
    if stat.S_ISLNK(entry.mode):
        raise ArchiveRejected(f"The entry {entry.name!r} is a symbolic link.")


def _check_ratio(entry: ZipEntry, limits: ZipLimits) -> None:
    if entry.size > limits.ratio_floor and entry.size > entry.compressed_size * limits.max_ratio:
        raise ArchiveRejected(
            f"The entry {entry.name!r} expands from {entry.compressed_size} to {entry.size} "
            f"bytes, more than {limits.max_ratio} times."
        )


class _Budget:
    """Entries and declared bytes counted over an archive and the archives inside it."""

    def __init__(self, limits: ZipLimits):
        self.limits = limits
        self.summary = ZipSummary()

    def too_many_entries(self) -> str:
        return (
            f"The archive (with the archives inside it) has more than "
            f"{self.limits.max_entries} entries."
        )

    def add(self, entry: ZipEntry) -> None:
        summary, limits = self.summary, self.limits
        summary.entries += 1
        summary.total_size += entry.size
        if summary.entries > limits.max_entries:
            raise ArchiveRejected(self.too_many_entries())
        if summary.total_size > limits.max_total_size:
            raise ArchiveRejected(
                f"The archive (with the archives inside it) declares more than "
                f"{limits.max_total_size} bytes uncompressed."
            )
        if entry.compressed_size:
            summary.largest_ratio = max(summary.largest_ratio, entry.size / entry.compressed_size)


def _inspect(fileobj: BinaryIO, budget: _Budget, depth: int) -> None:
    limits = budget.limits
    budget.summary.depth = max(budget.summary.depth, depth)
    remaining = limits.max_entries - budget.summary.entries
    total = compressed = 0
    candidates = False
    try:
        for entry in zip_entries(fileobj, max_entries=remaining):
            _check_entry(entry)
            budget.add(entry)
            _check_ratio(entry, limits)
            total += entry.size
            compressed += entry.compressed_size
            candidates = candidates or (not entry.is_dir and entry.size >= END_FORMAT.size)
    except TooManyEntries:
        if depth == 0:
            raise
        raise ArchiveRejected(budget.too_many_entries()) from None
    if depth == 0:
        budget.summary.compressed_size = compressed
    if total > limits.ratio_floor and total > compressed * limits.max_ratio:
        raise ArchiveRejected(
            f"The archive expands from {compressed} to {total} bytes, more than "
            f"{limits.max_ratio} times."
        )
    if candidates:
        _inspect_nested(fileobj, budget, depth)


def _inspect_nested(fileobj: BinaryIO, budget: _Budget, depth: int) -> None:
    """Archives among the entries (by their first bytes) are inspected in turn."""
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            for info in archive.infolist():
                if info.is_dir() or info.file_size < END_FORMAT.size:
                    continue
                try:
                    with archive.open(info) as member:
                        if member.read(4) not in (LOCAL_HEADER, END_RECORD):
                            continue
                except NotImplementedError:
                    continue  # a compression method zipfile cannot read: counted as declared
                if depth + 1 > budget.limits.max_depth:
                    raise ArchiveRejected(
                        f"The entry {info.filename!r} is an archive nested more than "
                        f"{budget.limits.max_depth} levels deep."
                    )
                budget.summary.nested_archives += 1
                with (
                    tempfile.SpooledTemporaryFile(
                        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
                    ) as copy,
                    archive.open(info) as member,
                ):
                    shutil.copyfileobj(member, copy, 64 * 1024)
                    try:
                        _inspect(copy, budget, depth + 1)
                    except ArchiveRejected as exc:
                        raise ArchiveRejected(f"In the entry {info.filename!r}: {exc}") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ArchiveRejected(f"{NOT_A_ZIP} It is corrupt ({exc}).") from exc


def zip_inspect(fileobj: BinaryIO, limits: ZipLimits | None = None) -> ZipSummary:
    """Check an uploaded archive (see the module's docstring); what it declares, or
    ``ArchiveRejected``. The file is left at its start."""
    budget = _Budget(limits or ZipLimits.from_settings())
    try:
        _inspect(fileobj, budget, 0)
    except struct.error as exc:
        raise ArchiveRejected(f"{NOT_A_ZIP} It is corrupt.") from exc
    finally:
        fileobj.seek(0)
    return budget.summary
