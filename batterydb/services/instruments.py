"""Importing an instrument file's EIS sweep as a test's EIS data.

The file is read by ``batterydb.readers.instruments`` in a child process with memory, CPU and
time limits (``core.bounded``); one sweep's points become ``z_real`` and ``z_imag`` rows at
their frequencies, written by ``eis_data_ingest``: all or nothing, the same rules as a bulk
POST (a point already stored is refused unless ``replace``). A sweep holds tens to a few
hundred points, so the import runs within the request: reading and writing take milliseconds,
and the client gets the outcome, or what is wrong with its file, in the answer.

Limits (settings from the environment, defaults): ``EIS_IMPORT_MAX_SIZE`` bytes of file (10 MB),
``EIS_IMPORT_MAX_POINTS`` points per sweep (10,000), ``EIS_IMPORT_MAX_ROWS`` data rows in the
file (1,000,000), ``EIS_IMPORT_MAX_EXPANDED_SIZE`` bytes a spreadsheet may expand to (100 MB),
and the child's ``EIS_IMPORT_PARSE_MEMORY_MB`` (256), ``EIS_IMPORT_PARSE_CPU_SECONDS`` (20)
and ``EIS_IMPORT_PARSE_TIMEOUT_SECONDS`` (60).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from batterydb.models import EISTest
from batterydb.services.ingest import IngestResult, eis_data_ingest
from core.bounded import ChildFailed, InputRejected, LimitExceeded, run_bounded


def limit(name: str) -> int:
    """An import limit: the setting ``name`` (``core/settings.py``, from the environment)."""
    return getattr(settings, name)


class InstrumentFileError(ValueError):
    """The file cannot be imported; the message says why (for the client)."""


class InstrumentFileTooLarge(InstrumentFileError):
    """The file is larger than ``EIS_IMPORT_MAX_SIZE``."""


class SweepOutOfRange(InstrumentFileError):
    """The file has fewer sweeps than the number asked for."""


@dataclass(frozen=True)
class ImportResult:
    format: str
    sweeps: int
    sweep: int
    points: int
    written: IngestResult


def instrument_file_read(*, upload: UploadedFile, sweep: int) -> dict:
    """Read sweep ``sweep`` (1-based) of an uploaded instrument file in the bounded child.

    Returns ``{"format", "sweeps", "sweep", "points"}`` with points ``[frequency, z_real,
    z_imag]`` (Im(Z), negative for a capacitive response). Raises
    :class:`InstrumentFileTooLarge`, :class:`SweepOutOfRange` or :class:`InstrumentFileError`
    (the file does not parse, or parsing passed a limit)."""
    maximum = limit("EIS_IMPORT_MAX_SIZE")
    if (upload.size or 0) > maximum:
        raise InstrumentFileTooLarge(
            f"Instrument files are limited to {maximum} bytes; this one has {upload.size}."
        )
    upload.seek(0)
    raw = b"".join(upload.chunks())
    if len(raw) > maximum:
        raise InstrumentFileTooLarge(
            f"Instrument files are limited to {maximum} bytes; this one has {len(raw)}."
        )
    max_points = limit("EIS_IMPORT_MAX_POINTS")
    try:
        value = run_bounded(
            "batterydb.readers.instruments:read_eis_file",
            raw,
            options={
                "file_name": upload.name or "",
                "sweep": sweep,
                "max_points": max_points,
                "max_rows": limit("EIS_IMPORT_MAX_ROWS"),
                "max_expanded_bytes": limit("EIS_IMPORT_MAX_EXPANDED_SIZE"),
            },
            memory_bytes=limit("EIS_IMPORT_PARSE_MEMORY_MB") * 2**20,
            cpu_seconds=limit("EIS_IMPORT_PARSE_CPU_SECONDS"),
            timeout_seconds=limit("EIS_IMPORT_PARSE_TIMEOUT_SECONDS"),
            # A sweep's points as JSON: under 100 bytes each.
            max_output_bytes=max_points * 100 + 4096,
        ).value
    except InputRejected as exc:
        raise InstrumentFileError(str(exc)) from exc
    except LimitExceeded as exc:
        raise InstrumentFileError(
            f"The file could not be read within the server's limits: {exc}"
        ) from exc
    except ChildFailed as exc:
        raise InstrumentFileError(f"The file could not be read: {exc}") from exc
    if value["points"] is None:
        raise SweepOutOfRange(
            f"The file holds {value['sweeps']} sweep{'s' if value['sweeps'] != 1 else ''}; "
            f"sweep {sweep} was asked for."
        )
    return value


def eis_test_import(
    *, test: EISTest, upload: UploadedFile, sweep: int = 1, replace: bool = False
) -> ImportResult:
    """Write sweep ``sweep`` of an instrument file as ``test``'s EIS data (``z_real`` and
    ``z_imag`` at each frequency), all or nothing.

    Raises the errors of :func:`instrument_file_read`, and ``eis_data_ingest``'s
    ``DuplicatePoints`` (a frequency repeated in the sweep, or a point already stored without
    ``replace``) and ``ConcurrentChange`` (the test deleted meanwhile)."""
    read = instrument_file_read(upload=upload, sweep=sweep)
    rows = []
    for frequency, real, imag in read["points"]:
        rows.append((test.pk, frequency, "z_real", real))
        rows.append((test.pk, frequency, "z_imag", imag))
    written = eis_data_ingest(
        rows=rows,
        organization_of={test.pk: test.organization_id},
        replace=replace,
        returning=False,
    )
    return ImportResult(
        format=read["format"],
        sweeps=read["sweeps"],
        sweep=sweep,
        points=len(read["points"]),
        written=written,
    )
