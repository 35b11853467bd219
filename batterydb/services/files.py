"""Uploaded files: BatteryDB's stored files (``StoredFile`` rows on ``core.files``) and
parsing DBC files."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from batterydb.models import StoredFile
from core import files
from core.bounded import ChildFailed, InputRejected, LimitExceeded, run_bounded
from core.models import Organization, User

DBC_SUMMARY_MAX_NAMES = 100
_NAME_MAX_LENGTH = StoredFile._meta.get_field("name").max_length


class DBCParseError(ValueError):
    """The upload is not a DBC file cantools can read within the limits; the message says
    where or which limit."""


class DBCTooLarge(DBCParseError):
    """The upload is larger than ``DBC_MAX_SIZE``."""


def upload_display_name(upload: UploadedFile) -> str:
    """The uploaded file's own name without any client path, as people will download it."""
    return files.upload_display_name(upload, _NAME_MAX_LENGTH)


def stored_file_create(
    *,
    organization: Organization,
    upload: UploadedFile,
    user: User | None,
    writes: files.FileWrites | None = None,
) -> StoredFile:
    """Store ``upload`` for ``organization``, with its size, content type and SHA-256.

    The bytes go to the default storage with the row, or not at all (``core.files``): with
    ``writes`` they go again if that block fails."""
    return files.stored_file_create(
        model=StoredFile,
        upload=upload,
        files=writes,
        organization=organization,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def stored_file_references() -> list:
    """The foreign keys to ``StoredFile`` (BMS files, DBC files, model versions, and any model
    that comes to refer to stored files)."""
    return files.stored_file_references(StoredFile)


def stored_file_release(*, stored_file_id: int | None) -> bool:
    """Delete a stored file no row refers to any more (a replaced file, or the file of a
    deleted BMS file, DBC file or model version).

    The row goes now, the bytes once the transaction commits (the ``post_delete`` receiver in
    ``batterydb.signals``). Returns whether it was deleted."""
    return files.stored_file_release(model=StoredFile, pk=stored_file_id)


def stored_file_bytes_delete_on_commit(
    *, stored_file: StoredFile, using: str | None = None
) -> None:
    """Remove a deleted stored file's bytes from the storage once the transaction commits
    (never if it rolls back); a storage error is logged, not raised."""
    files.field_files_delete_on_commit(stored_file, ["file"], using=using)


def dbc_parse(*, upload: UploadedFile) -> dict:
    """Parse a DBC upload and summarize it, in a child process with limits.

    Returns ``{"message_count", "signal_count", "nodes", "message_names",
    "message_names_truncated"}`` (``batterydb.parsers.dbc_summary``, run by
    ``core.bounded``). Raises ``DBCTooLarge`` for a file over ``DBC_MAX_SIZE``, before
    reading it, and ``DBCParseError`` for a file that does not parse (cantools' message names
    the line and column), that has more than ``DBC_MAX_MESSAGES`` messages, or whose parsing
    exceeds the memory, CPU or time limit (``DBC_PARSE_*``): a few megabytes of text can take
    cantools gigabytes and minutes, which the server's own process must never pay.
    """
    limit = settings.DBC_MAX_SIZE
    if (upload.size or 0) > limit:
        raise DBCTooLarge(f"DBC files are limited to {limit} bytes; this one has {upload.size}.")
    upload.seek(0)
    raw = b"".join(upload.chunks())
    upload.seek(0)
    if len(raw) > limit:
        raise DBCTooLarge(f"DBC files are limited to {limit} bytes; this one has {len(raw)}.")
    try:
        return run_bounded(
            "batterydb.parsers:dbc_summary",
            raw,
            options={"max_messages": settings.DBC_MAX_MESSAGES, "max_names": DBC_SUMMARY_MAX_NAMES},
            memory_bytes=settings.DBC_PARSE_MEMORY_MB * 2**20,
            cpu_seconds=settings.DBC_PARSE_CPU_SECONDS,
            timeout_seconds=settings.DBC_PARSE_TIMEOUT_SECONDS,
        ).value
    except InputRejected as exc:
        raise DBCParseError(str(exc)) from exc
    except LimitExceeded as exc:
        raise DBCParseError(
            f"The file could not be parsed within the server's limits: {exc} "
            "Such a DBC file is unusually complex (for example a very long comment)."
        ) from exc
    except ChildFailed as exc:
        raise DBCParseError(f"Not a valid DBC file: the parser failed ({exc})") from exc
