"""ZIP archives are checked by what they declare, without extracting them (``dmlf.archives``):
real ZIP content, entry count, declared size, expansion ratio, zip slip, symbolic links,
encryption and archives nested inside archives."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest

from dmlf.archives import (
    CENTRAL_FORMAT,
    CENTRAL_HEADER,
    END_FORMAT,
    END_RECORD,
    ArchiveRejected,
    ZipLimits,
    zip_entries,
    zip_inspect,
)
from tests.dmlf.factories import zip_bytes

LIMITS = ZipLimits(
    max_entries=100,
    max_total_size=10 * 2**20,
    max_ratio=100,
    ratio_floor=2**20,
    max_depth=2,
)


def inspect(data: bytes, limits: ZipLimits = LIMITS):
    return zip_inspect(io.BytesIO(data), limits)


def rejected(data: bytes, limits: ZipLimits = LIMITS) -> str:
    with pytest.raises(ArchiveRejected) as caught:
        inspect(data, limits)
    return str(caught.value)


def central_headers(data: bytes) -> list[int]:
    """Offsets of the central directory headers."""
    offsets, position = [], data.find(CENTRAL_HEADER)
    while position >= 0:
        offsets.append(position)
        position = data.find(CENTRAL_HEADER, position + 1)
    return offsets


def patch_central(data: bytes, index: int = 0, **fields) -> bytes:
    """``data`` with fields of the ``index``-th central directory header changed."""
    names = [
        "signature",
        "made_by",
        "needed",
        "flags",
        "method",
        "time",
        "date",
        "crc",
        "compressed",
        "uncompressed",
        "name_length",
        "extra_length",
        "comment_length",
        "disk",
        "internal",
        "external",
        "offset",
    ]
    offset = central_headers(data)[index]
    values = dict(zip(names, CENTRAL_FORMAT.unpack_from(data, offset), strict=True))
    values.update(fields)
    packed = CENTRAL_FORMAT.pack(*(values[name] for name in names))
    return data[:offset] + packed + data[offset + CENTRAL_FORMAT.size :]


def patch_end_record(data: bytes, entries: int) -> bytes:
    offset = data.rfind(END_RECORD)
    values = list(END_FORMAT.unpack_from(data, offset))
    values[3] = values[4] = entries
    return data[:offset] + END_FORMAT.pack(*values) + data[offset + END_FORMAT.size :]


# --- Accepted archives ---------------------------------------------------------------------------


def test_an_ordinary_archive_passes_with_what_it_declares():
    data = zip_bytes({"a.csv": b"1,2\n" * 1000, "dir/b.txt": b"hello", "dir/": b""})
    summary = inspect(data)
    assert summary.entries == 3
    assert summary.total_size == 4000 + 5
    assert summary.nested_archives == 0


def test_an_empty_archive_passes():
    assert inspect(zip_bytes({})).entries == 0


def test_a_zip64_end_record_is_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for index in range(0x10000 + 5):  # more than 65,535: Zip64 end record
            archive.writestr(zipfile.ZipInfo(f"{index}"), b"")
    data = buffer.getvalue()
    assert b"PK\x06\x06" in data
    limits = ZipLimits(**{**LIMITS.__dict__, "max_entries": 0x10000 + 5})
    assert inspect(data, limits).entries == 0x10000 + 5
    message = rejected(data)
    assert f"has {0x10000 + 5} entries; at most 100" in message


def test_compressible_files_below_the_ratio_floor_pass():
    """A small, very repetitive file expands far more than 100 times, but is no bomb."""
    assert inspect(zip_bytes({"zeros.bin": bytes(500_000)})).total_size == 500_000


def test_archives_inside_are_inspected_and_counted():
    inner = zip_bytes({"x.csv": b"1\n", "y.csv": b"2\n"})
    data = zip_bytes({"inner.zip": inner, "readme.txt": b"hi"})
    summary = inspect(data)
    assert summary.nested_archives == 1
    assert summary.entries == 4  # the two outer entries and the two inside
    stored = zip_bytes({"inner.zip": inner}, compression=zipfile.ZIP_STORED)
    assert inspect(stored).nested_archives == 1


def test_the_file_is_left_at_its_start():
    stream = io.BytesIO(zip_bytes())
    zip_inspect(stream, LIMITS)
    assert stream.tell() == 0


# --- Not a ZIP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"time,voltage\n0,3.7\n",
        b"%PDF-1.7 pretending to be data.zip",
        b"PK\x03\x04" + b"\x00" * 100,  # the signature, but no directory
        b"junk before " + zip_bytes(),  # not a ZIP from its first byte
        zip_bytes()[:-10],  # cut short
    ],
    ids=["empty", "csv", "pdf", "signature-only", "prefixed", "truncated"],
)
def test_content_that_is_not_a_zip_is_refused_whatever_its_name(data):
    assert rejected(data).startswith("Only zip files are allowed.")


def test_a_directory_holding_more_than_it_declares_is_refused():
    data = patch_end_record(zip_bytes({"a": b"1", "b": b"2", "c": b"3"}), entries=1)
    assert "holds more than the 1 entries it declares" in rejected(data)


# --- Zip bombs -----------------------------------------------------------------------------------


def test_more_entries_than_the_limit_are_refused_before_the_directory_is_read():
    data = zip_bytes({f"{i}.txt": b"x" for i in range(101)})
    # Corrupt every central header: a refusal by count never reads them.
    for offset in central_headers(data):
        data = data[:offset] + b"XXXX" + data[offset + 4 :]
    assert rejected(data) == "The archive has 101 entries; at most 100 are accepted."


def test_a_declared_total_over_the_limit_is_refused():
    data = zip_bytes({f"{i}.bin": bytes(3 * 2**20) for i in range(4)})  # 12 MiB of zeros
    limits = ZipLimits(**{**LIMITS.__dict__, "max_ratio": 10**6})
    assert "declares more than 10485760 bytes uncompressed" in rejected(data, limits)


def test_a_lying_size_is_refused_before_anything_is_decompressed():
    data = patch_central(zip_bytes({"big.bin": b"tiny"}), uncompressed=0xFFFFFFFE)
    assert "declares more than" in rejected(data)


def test_an_entry_expanding_more_than_the_ratio_is_refused():
    data = zip_bytes({"bomb.bin": bytes(5 * 2**20)})  # 5 MiB of zeros: about 5 KiB deflated
    message = rejected(data)
    assert "'bomb.bin' expands from" in message and "more than 100 times" in message


def test_many_small_entries_expanding_together_are_refused():
    entries = {f"{i}.bin": bytes(200_000) for i in range(20)}  # each under the floor
    assert "The archive expands from" in rejected(zip_bytes(entries))


def test_a_bomb_inside_an_archive_is_refused_by_its_declared_size():
    inner = patch_central(zip_bytes({"big.bin": b"tiny"}), uncompressed=0xFFFFFFF0)
    data = zip_bytes({"inner.zip": inner})
    message = rejected(data)
    assert message.startswith("In the entry 'inner.zip':")
    assert "declares more than" in message


def test_entries_inside_archives_count_towards_the_limit():
    inner = zip_bytes({f"{i}.txt": b"x" for i in range(60)})
    data = zip_bytes({"a.zip": inner, "b.zip": inner})
    assert "more than 100" in rejected(data)


def test_archives_nested_too_deeply_are_refused():
    level = zip_bytes({"data.csv": b"1\n"})
    for depth in range(3):
        level = zip_bytes({f"level{depth}.zip": level})
    assert "nested more than 2 levels deep" in rejected(level)
    assert inspect(level, ZipLimits(**{**LIMITS.__dict__, "max_depth": 3})).depth == 3


def test_a_corrupt_archive_inside_is_refused():
    inner = zip_bytes({"x.csv": b"1\n"})[:-5]
    assert "In the entry 'bad.zip'" in rejected(zip_bytes({"bad.zip": inner}))


# --- Names, links, encryption --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.sh", "leads outside the archive"),
        ("data/../../evil.sh", "leads outside the archive"),
        ("..\\evil.bat", "leads outside the archive"),
        ("/etc/cron.d/evil", "absolute path"),
        ("\\windows\\evil.dll", "absolute path"),
        ("C:\\evil.dll", "absolute path"),
        ("c:/evil.dll", "absolute path"),
    ],
)
def test_zip_slip_entries_are_refused(name, reason):
    # Written byte for byte: zipfile would normalise some of these names.
    raw = name.encode()
    data = zip_bytes({"ok.txt": b"fine", "Q" * len(raw): b"x"}).replace(b"Q" * len(raw), raw)
    assert reason in rejected(data)


def test_a_name_with_a_dot_dot_inside_a_word_is_fine():
    assert inspect(zip_bytes({"results..final/data.csv": b"1"})).entries == 1


def test_a_symbolic_link_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link-to-passwd")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, b"/etc/passwd")
    assert "'link-to-passwd' is a symbolic link" in rejected(buffer.getvalue())


@pytest.mark.parametrize("fields", [{"flags": 0x1}, {"flags": 0x41}, {"method": 99}])
def test_an_encrypted_entry_is_refused(fields):
    data = patch_central(zip_bytes({"secret.csv": b"1,2\n"}), **fields)
    assert "'secret.csv' is encrypted" in rejected(data)


def test_a_name_that_is_not_utf8_is_refused():
    data = zip_bytes({"QQ": b"1"}).replace(b"QQ", b"\xff\xfe")
    offset = central_headers(data)[0]
    flags = struct.unpack_from("<H", data, offset + 8)[0] | 0x800
    data = data[: offset + 8] + struct.pack("<H", flags) + data[offset + 10 :]
    assert "not valid UTF-8" in rejected(data)


def test_entries_are_listed_without_extracting():
    data = zip_bytes({"a.csv": b"1,2\n", "b/c.txt": b"hello"})
    listed = [(entry.name, entry.size) for entry in zip_entries(io.BytesIO(data))]
    assert listed == [("a.csv", 4), ("b/c.txt", 5)]
