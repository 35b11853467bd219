"""Rows of a time and float columns read from PostgreSQL as NumPy arrays, through binary COPY.

``COPY (SELECT <timestamptz>, <float8>, ...) TO STDOUT (FORMAT BINARY)`` with every column
non-null (missing values as ``'NaN'``) gives rows of one fixed width: a field count, then each
field's length and value, big-endian. ``numpy.frombuffer`` reads a block of them in one step,
times as microseconds since 2000-01-01; no Python object is made per value. The export reads
the raw series this way, statistics the rollups.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from django.db import connection

#: PostgreSQL's epoch (2000-01-01) in Unix milliseconds: binary timestamps count from it.
PG_EPOCH_MS = 946_684_800_000
_HEADER = len(b"PGCOPY\n\xff\r\n\x00") + 8  # signature, flags, header extension length


def _dtype(width: int) -> np.dtype:
    return np.dtype(
        [("count", ">i2"), ("time_length", ">i4"), ("time", ">i8")]
        + [item for i in range(width) for item in ((f"l{i}", ">i4"), (f"v{i}", ">f8"))]
    )


def _parse(data: bytes, dtype: np.dtype, width: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.frombuffer(data, dtype=dtype)
    times = rows["time"].astype(np.int64) // 1000 + PG_EPOCH_MS
    values = np.empty((len(rows), width), dtype=np.float64)
    for i in range(width):
        values[:, i] = rows[f"v{i}"]
    return times, values


def float_blocks(
    select: str, params: Sequence, width: int, block_rows: int, first_block_rows: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The rows of ``select`` (a timestamptz, then ``width`` float8 columns, none null) in
    blocks of about ``block_rows`` (the first of ``first_block_rows``, if given, so that a
    streamed answer starts sooner): times in Unix milliseconds and a float matrix."""
    dtype = _dtype(width)
    row_size = dtype.itemsize
    connection.ensure_connection()
    with connection.cursor() as cursor:
        # The parameters go in as literals: COPY takes none.
        statement = cursor.cursor.mogrify(
            f"COPY ({select}) TO STDOUT (FORMAT BINARY)", list(params)
        )
        with cursor.cursor.copy(statement) as copy:
            pending = bytearray()
            skipped = False
            wanted = (first_block_rows or block_rows) * row_size
            for data in copy:
                pending += data
                if not skipped:
                    if len(pending) < _HEADER:
                        continue
                    del pending[:_HEADER]
                    skipped = True
                if len(pending) >= wanted:
                    usable = len(pending) // row_size * row_size
                    yield _parse(bytes(pending[:usable]), dtype, width)
                    del pending[:usable]
                    wanted = block_rows * row_size
            usable = len(pending) // row_size * row_size  # the trailer (-1) is left out
            if usable:
                yield _parse(bytes(pending[:usable]), dtype, width)
