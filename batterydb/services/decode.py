"""Decoding a BMS file that is a CAN log into BMS results, with a DBC file.

:func:`bms_file_decode` turns every data frame of the log whose id the DBC defines into one
BMS result per signal: ``{bms_test, timestamp, parameter="<message>.<signal>", value,
source_file=<the BMS file>}``. Choice signals are stored as their numbers. It runs in a
background job (``batterydb.jobs``), in bounded memory whatever the log's size:

1. the log is copied from the storage to a temporary file, in blocks;
2. its frames are read one at a time (``batterydb.readers.can_logs``) and decoded with
   cantools; each value goes to a spool file as a 20-byte record (time in microseconds,
   parameter number, value), and per parameter its first and last time are kept; ``progress``
   follows the bytes read (to 0.9);
3. in one transaction: the file's earlier rows are deleted (re-decoding replaces them); the
   rows of other sources inside each parameter's time span are looked up (an index range
   scan): any is an overlap, refused naming the parameter and time range, unless ``replace``
   (then they are deleted); the spool goes in through one binary ``COPY`` on PostgreSQL, or
   ``INSERT`` batches of ``SQLITE_BATCH`` rows elsewhere.

All rows or none: any error before the commit leaves the stored rows as they were. Errors
that the sender can act on are :class:`DecodeFailed` with a message for them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Max, Min, Q

from batterydb.models import BMSFile, BMSResult, DBCFile
from batterydb.parsers import decode_dbc
from batterydb.readers.can_logs import CANLogError, asammdf_left_out, log_format, read_frames
from batterydb.validators import MAX_PARAMETER_LENGTH
from core import jobs
from core.copy import copy_rows

#: Rows per INSERT batch where there is no COPY (SQLite).
SQLITE_BATCH = 5000
#: Distinct unknown frame ids counted one by one (frames of further ones are counted together).
MAX_TRACKED_IDS = 10_000
#: Unknown frame ids listed by id in the summary (all are counted).
MAX_UNKNOWN_IDS_LISTED = 100
#: Parameters whose overlaps one query looks up.
OVERLAP_CHUNK = 200
#: Overlaps named in the error.
MAX_OVERLAPS_NAMED = 5
_RECORD = struct.Struct("<qId")  # microseconds since the epoch, parameter number, value
_SPOOL_BLOCK = 4096  # records read back at a time
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Binary COPY: PostgreSQL counts time in microseconds from 2000-01-01.
_POSTGRES_EPOCH_MICROS = 946_684_800_000_000
_COPY_TIME = struct.Struct(">iq")
_COPY_VALUE = struct.Struct(">id")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_COLUMNS = (
    ("organization_id", "int8"),
    ("bms_test_id", "int8"),
    ("timestamp", "timestamptz"),
    ("parameter", "text"),
    ("value", "float8"),
    ("source_file_id", "int8"),
)


class DecodeFailed(ValueError):
    """The log cannot be decoded and stored; the message says why (for the sender)."""


# --- decoding -----------------------------------------------------------------------------------
@dataclass
class _Spool:
    """Decoded values on disk, with what the summary and the overlap check need."""

    file: object
    parameters: list[str] = field(default_factory=list)
    spans: dict[int, list[int]] = field(default_factory=dict)  # parameter -> [first, last] µs
    rows: int = 0
    frames: int = 0
    decoded_frames: int = 0
    unknown: Counter = field(default_factory=Counter)
    messages: set[str] = field(default_factory=set)
    skipped_values: int = 0
    untracked_unknown: int = 0  # unknown frames past MAX_TRACKED_IDS distinct ids
    #: PostgreSQL: each row is spooled as a row of binary COPY, between these two constants
    #: (organization and test before the time, the file after the value), the parameter
    #: names pre-encoded; elsewhere as ``_RECORD``.
    copy_prefix: bytes | None = None
    copy_suffix: bytes = b""
    encoded: list[bytes] = field(default_factory=list)


def _spool_for(file, bms_file: BMSFile, vendor: str) -> _Spool:
    if vendor != "postgresql":
        return _Spool(file)
    # A row: its field count, then each field as (length, bytes) in network byte order.
    prefix = struct.pack(
        ">hiqiq", len(_COLUMNS), 8, bms_file.organization_id, 8, bms_file.bms_test_id
    )
    return _Spool(file, copy_prefix=prefix, copy_suffix=struct.pack(">iq", 8, bms_file.pk))


class _Decoder:
    """Frame id -> (cantools message, parameter numbers by signal), built on first sight."""

    def __init__(self, database, spool: _Spool):
        self.by_id = {(m.frame_id, m.is_extended_frame): m for m in database.messages}
        self.spool = spool
        self.known: dict[tuple[int, bool], tuple | None] = {}

    def lookup(self, key: tuple[int, bool]) -> tuple | None:
        message = self.by_id.get(key)
        if message is None:
            return None
        numbers = {}
        spool = self.spool
        for signal in message.signals:
            name = f"{message.name}.{signal.name}"
            if len(name) > MAX_PARAMETER_LENGTH:
                raise DecodeFailed(
                    f"The parameter name {name!r} ({len(name)} characters) is longer than "
                    f"the {MAX_PARAMETER_LENGTH} characters a BMS result's parameter holds; "
                    "shorten the message or signal name in the DBC file."
                )
            numbers[signal.name] = len(spool.parameters)
            spool.parameters.append(name)
            encoded = name.encode()
            spool.encoded.append(struct.pack(">i", len(encoded)) + encoded)
        return message, numbers


def _decode_log(path: Path, kind: str, database, spool: _Spool, progress) -> None:
    decoder = _Decoder(database, spool)
    known, lookup, unknown = decoder.known, decoder.lookup, spool.unknown
    spans, pack, write = spool.spans, _RECORD.pack, spool.file.write
    prefix, suffix, encoded = spool.copy_prefix, spool.copy_suffix, spool.encoded
    pack_time, pack_value = _COPY_TIME.pack, _COPY_VALUE.pack
    rows = frames = decoded = skipped = untracked = 0
    for timestamp, frame_id, extended, data in read_frames(path, kind, progress=progress):
        frames += 1
        key = (frame_id, extended)
        try:
            entry = known[key]
        except KeyError:
            entry = lookup(key)
            if entry is not None:
                known[key] = entry
                spool.messages.add(entry[0].name)
            elif len(known) < MAX_TRACKED_IDS:
                known[key] = None
        if entry is None:
            if key in unknown or len(unknown) < MAX_TRACKED_IDS:
                unknown[key] += 1
            else:  # a log of countless distinct ids must not grow the worker's memory
                untracked += 1
            continue
        message, numbers = entry
        try:
            values = message.decode(
                data, decode_choices=False, allow_truncated=True, allow_excess=True
            )
        except Exception:  # cantools raises several kinds on a frame it cannot decode
            skipped += 1
            continue
        decoded += 1
        micros = round(timestamp * 1_000_000)
        if prefix is not None:
            time_field = prefix + pack_time(8, micros - _POSTGRES_EPOCH_MICROS)
        for name, value in values.items():
            if value != value or value in (float("inf"), float("-inf")):
                skipped += 1
                continue
            number = numbers[name]
            if prefix is not None:
                write(time_field + encoded[number] + pack_value(8, value) + suffix)
            else:
                write(pack(micros, number, value))
            span = spans.get(number)
            if span is None:
                spans[number] = [micros, micros]
            elif micros > span[1]:
                span[1] = micros
            elif micros < span[0]:
                span[0] = micros
            rows += 1
    spool.rows, spool.frames, spool.decoded_frames = rows, frames, decoded
    spool.skipped_values, spool.untracked_unknown = skipped, untracked


def _as_time(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def _copy_spool(spool: _Spool, table: str, using: str) -> None:
    """The spooled rows of binary COPY into ``table``, in blocks of a megabyte."""
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name, _ in _COLUMNS)
    sql = f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    spool.file.seek(0)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.write(_COPY_HEADER)
        while block := spool.file.read(2**20):
            copy.write(block)
        copy.write(_COPY_TRAILER)


def _spooled_rows(spool: _Spool, organization_id: int, test_id: int, file_id: int):
    """The spool's rows as the table's columns, read back in blocks."""
    spool.file.seek(0)
    parameters = spool.parameters
    unpack = _RECORD.iter_unpack
    size = _RECORD.size * _SPOOL_BLOCK
    last_micros, last_time = None, None
    while block := spool.file.read(size):
        for micros, number, value in unpack(block):
            if micros != last_micros:  # the values of one frame share their time
                last_micros, last_time = micros, _as_time(micros)
            yield (organization_id, test_id, last_time, parameters[number], value, file_id)


# --- the service --------------------------------------------------------------------------------
def bms_file_decode(
    *,
    bms_file: BMSFile,
    dbc: DBCFile,
    replace: bool = False,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Decode ``bms_file`` (a CAN log) with ``dbc`` into BMS results of the file's BMS test,
    replacing the rows an earlier decoding of this file stored; returns the summary.

    Raises :class:`DecodeFailed` when the file is not a CAN log, no frame matches the DBC,
    a parameter name is too long, or the log overlaps points stored from another source
    (without ``replace``)."""
    if bms_file.bms_test_id is None:
        raise DecodeFailed("The BMS file belongs to no BMS test; set its bms_test first.")
    report = progress or (lambda fraction: None)
    database = _load_dbc(dbc)
    with tempfile.TemporaryDirectory(prefix="bms-decode-") as folder:
        path = Path(folder) / "log"
        with bms_file.file.file.open("rb") as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        try:
            kind = log_format(path, bms_file.file.name)
            vendor = connections[router.db_for_write(BMSResult)].vendor
            with open(Path(folder) / "spool", "w+b") as spool_file:
                spool = _spool_for(spool_file, bms_file, vendor)
                _decode_log(path, kind, database, spool, lambda f: report(0.9 * f))
                if not spool.rows:
                    raise DecodeFailed(_nothing_decoded(spool, kind))
                spool_file.flush()
                replaced = _store(bms_file, spool, replace=replace)
        except CANLogError as exc:
            raise DecodeFailed(str(exc)) from exc
    return _summary(spool, kind, dbc, replaced)


def _load_dbc(dbc: DBCFile):
    with asammdf_left_out():  # cantools imports python-can, which would import asammdf
        from cantools.database.can.formats import dbc as dbc_format

    with dbc.file.file.open("rb") as handle:
        raw = handle.read()
    try:
        return dbc_format.load_string(decode_dbc(raw), strict=False)
    except Exception as exc:  # cantools raises many kinds on a bad file
        raise DecodeFailed(f"The DBC file {dbc.pk} cannot be read: {exc}") from exc


def _nothing_decoded(spool: _Spool, kind: str) -> str:
    if not spool.frames:
        return f"The file holds no CAN data frames (read as a {kind} log)."
    ids = ", ".join(_frame_id_text(key) for key, _ in spool.unknown.most_common(5))
    return (
        f"None of the log's {spool.frames} frames has an id the DBC file defines "
        f"(most frequent: {ids}); is it the right DBC file?"
    )


def _frame_id_text(key: tuple[int, bool]) -> str:
    frame_id, extended = key
    return f"0x{frame_id:08X}" if extended else f"0x{frame_id:03X}"


def _summary(spool: _Spool, kind: str, dbc: DBCFile, replaced: int) -> dict:
    starts = [span[0] for span in spool.spans.values()]
    ends = [span[1] for span in spool.spans.values()]
    unknown = spool.unknown.most_common(MAX_UNKNOWN_IDS_LISTED)
    return {
        "format": kind,
        "dbc": dbc.pk,
        "frames": spool.frames,
        "decoded_frames": spool.decoded_frames,
        "messages": len(spool.messages),
        "signals": len(spool.spans),
        "rows": spool.rows,
        "replaced_rows": replaced,
        "skipped_values": spool.skipped_values,
        "start": _as_time(min(starts)).isoformat(),
        "end": _as_time(max(ends)).isoformat(),
        "unknown_frames": sum(spool.unknown.values()) + spool.untracked_unknown,
        "unknown_frame_ids": {_frame_id_text(key): count for key, count in unknown},
    }


# --- storing ------------------------------------------------------------------------------------
def _store(bms_file: BMSFile, spool: _Spool, *, replace: bool) -> int:
    """Write the spool as the file's rows in one transaction; returns how many rows of
    other sources it replaced."""
    using = router.db_for_write(BMSResult)
    test_id = bms_file.bms_test_id
    try:
        with transaction.atomic(using=using):
            # One decoding of a file at a time; the file must still exist.
            if not BMSFile.objects.using(using).select_for_update().filter(pk=bms_file.pk):
                raise DecodeFailed("The BMS file was deleted while its log was decoded.")
            BMSResult.objects.using(using).filter(source_file=bms_file.pk).delete()
            replaced = 0
            found: list[dict] = []
            for overlap in _overlap_conditions(spool):
                others = BMSResult.objects.using(using).filter(overlap, bms_test=test_id)
                if replace:
                    replaced += others.delete()[0]
                elif len(found) <= MAX_OVERLAPS_NAMED:
                    found += _overlaps(others)
            if found:
                _refuse_overlaps(found)
            _insert(spool, bms_file, using)
    except IntegrityError as exc:
        raise DecodeFailed(
            "The log holds two values of one parameter at the same time (two frames of one "
            "message with the same timestamp), or another writer stored points of this test "
            f"in the log's time span meanwhile; nothing was written. ({exc})"
        ) from exc
    return replaced


def _overlap_conditions(spool: _Spool) -> Iterator[Q]:
    """Conditions on the stored rows of the log's parameters within each one's time span, a
    few parameters at a time (SQLite parses a long OR as a deep tree)."""
    spans = list(spool.spans.items())
    for start in range(0, len(spans), OVERLAP_CHUNK):
        condition = Q()
        for number, (first, last) in spans[start : start + OVERLAP_CHUNK]:
            condition |= Q(
                parameter=spool.parameters[number],
                timestamp__gte=_as_time(first),
                timestamp__lte=_as_time(last),
            )
        yield condition


def _overlaps(others) -> list[dict]:
    return list(
        others.order_by()
        .values("parameter")
        .annotate(first=Min("timestamp"), last=Max("timestamp"), points=Count("id"))
        .order_by("parameter")[: MAX_OVERLAPS_NAMED + 1]
    )


def _refuse_overlaps(found: list[dict]) -> None:
    named = "; ".join(
        f"{row['parameter']}: {row['points']} points from {row['first'].isoformat()} "
        f"to {row['last'].isoformat()}"
        for row in found[:MAX_OVERLAPS_NAMED]
    )
    more = " and more parameters" if len(found) > MAX_OVERLAPS_NAMED else ""
    raise DecodeFailed(
        "The log overlaps points of this BMS test already stored from another source "
        f"({named}{more}); nothing was written. Decode with on_conflict=replace to replace "
        "the stored points within the log's time span."
    )


def _insert(spool: _Spool, bms_file: BMSFile, using: str) -> None:
    table = BMSResult._meta.db_table
    if spool.copy_prefix is not None:
        _copy_spool(spool, table, using)
        return
    rows = _spooled_rows(spool, bms_file.organization_id, bms_file.bms_test_id, bms_file.pk)
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == SQLITE_BATCH:
            copy_rows(table=table, columns=_COLUMNS, rows=batch, using=using)
            batch = []
    if batch:
        copy_rows(table=table, columns=_COLUMNS, rows=batch, using=using)


# --- the job ------------------------------------------------------------------------------------
DECODE_JOB = "batterydb.bms_decode"


def _decode_retry_refusal(job: jobs.Job) -> str | None:
    """A failed decoding runs again only while it is its file's latest: an older one would
    overwrite the rows of the decoding that replaced it."""
    file_id = job.params.get("bms_file")
    # The file's row is the lock, as for a start.
    list(BMSFile.objects.select_for_update().filter(pk=file_id).values_list("pk"))
    latest = _decode_jobs(job.organization_id, file_id).values_list("pk", flat=True).first()
    if latest != job.pk:
        return (
            "A newer decoding of this file exists; start one again with "
            f"POST /api/v2/bms/files/{file_id}/decode/."
        )
    return None


@jobs.register(DECODE_JOB, retry_refusal=_decode_retry_refusal)
def bms_file_decode_job(job: jobs.Job, progress) -> dict:
    """The job kind: ``params`` ``{"bms_file", "dbc", "replace"}``; the summary as result."""
    params = job.params
    bms_file = (
        BMSFile.objects.select_related("file")
        .filter(pk=params["bms_file"], organization=job.organization_id)
        .first()
    )
    if bms_file is None:
        raise jobs.JobError("The BMS file no longer exists.")
    dbc = (
        DBCFile.objects.select_related("file")
        .filter(pk=params["dbc"], organization=job.organization_id)
        .first()
    )
    if dbc is None:
        raise jobs.JobError("The DBC file no longer exists.")
    try:
        return bms_file_decode(
            bms_file=bms_file, dbc=dbc, replace=bool(params.get("replace")), progress=progress
        )
    except DecodeFailed as exc:
        raise jobs.JobError(str(exc)) from exc


def bms_file_decode_start(*, bms_file: BMSFile, dbc: DBCFile, replace: bool, user) -> jobs.Job:
    """Queue the decoding of ``bms_file`` with ``dbc``; raises :class:`DecodeBusy` when one is
    already queued or running for this file."""
    with transaction.atomic():
        # One start at a time per file: the file's row is the lock.
        list(BMSFile.objects.select_for_update().filter(pk=bms_file.pk).values_list("pk"))
        current = bms_file_decode_job_latest(bms_file=bms_file)
        if current is not None and not current.done:
            raise DecodeBusy(current)
        return jobs.start(
            DECODE_JOB,
            organization=bms_file.organization,
            user=user,
            params={"bms_file": bms_file.pk, "dbc": dbc.pk, "replace": replace},
            subject=decode_subject(bms_file.pk),
        )


def bms_file_decode_job_latest(*, bms_file: BMSFile) -> jobs.Job | None:
    """The file's latest decoding job, if any."""
    return _decode_jobs(bms_file.organization_id, bms_file.pk).first()


def decode_subject(file_id: int) -> str:
    """The decoding jobs' subject: the file (``core.jobs`` keeps each subject's latest job)."""
    return f"bms_file:{file_id}"


def _decode_jobs(organization_id: int, file_id: int):
    """The decoding jobs of a file, the latest first (by the jobs' subject index)."""
    return jobs.Job.objects.filter(
        kind=DECODE_JOB, organization=organization_id, subject=decode_subject(file_id)
    ).order_by("-created_at", "-id")


class DecodeRefused(ValueError):
    """The decoding cannot start; ``field`` names the input at fault (``dbc``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def bms_file_decode_dbc(*, bms_file: BMSFile, dbc_id: int | None) -> DBCFile:
    """The DBC file a decoding of ``bms_file`` uses: ``dbc_id``, which must be of the file's
    organization, else its BMS test's default; :class:`DecodeRefused` when there is none."""
    if dbc_id is None:
        dbc_id = bms_file.bms_test.default_dbc_id
        if dbc_id is None:
            raise DecodeRefused(
                "dbc", "The BMS test has no default DBC file; choose the one to use."
            )
    dbc = DBCFile.objects.filter(pk=dbc_id, organization=bms_file.organization_id).first()
    if dbc is None:
        raise DecodeRefused("dbc", f"No DBC file {dbc_id} in the file's organization.")
    return dbc


class DecodeBusy(Exception):
    """A decoding of the file is queued or running: ``job``."""

    def __init__(self, job: jobs.Job):
        super().__init__(f"A decoding of this file is already {job.status} (job {job.pk}).")
        self.job = job
