"""Uploaded files: storing them with their checksum, parsing DBC files, releasing old ones
and removing their bytes once their row is deleted."""

from __future__ import annotations

import hashlib
import os

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from batterydb.models import StoredFile
from core.models import Organization, User

DBC_SUMMARY_MAX_NAMES = 100
_NAME_MAX_LENGTH = StoredFile._meta.get_field("name").max_length


class DBCParseError(ValueError):
    """The upload is not a DBC file cantools can read; the message says where."""


def upload_display_name(upload: UploadedFile) -> str:
    """The uploaded file's own name without any client path, as people will download it."""
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip() or "upload"
    if len(name) > _NAME_MAX_LENGTH:
        stem, ext = os.path.splitext(name)
        name = stem[: _NAME_MAX_LENGTH - len(ext)] + ext
    return name


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def stored_file_create(
    *, organization: Organization, upload: UploadedFile, user: User | None
) -> StoredFile:
    """Store ``upload`` for ``organization``, with its size, content type and SHA-256.

    The bytes go to the default storage; if the row cannot be written the bytes are removed.
    """
    name = upload_display_name(upload)
    stored = StoredFile(
        organization=organization,
        name=name,
        size=upload.size or 0,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        sha256=_sha256(upload),
        created_by=user if user is not None and user.is_authenticated else None,
    )
    with transaction.atomic():
        stored.file.save(name, upload, save=False)
        try:
            stored.save()
        except Exception:
            stored.file.delete(save=False)
            raise
    return stored


def stored_file_references() -> list:
    """The foreign keys to ``StoredFile`` (BMS files, DBC files, model versions, and any model
    that comes to refer to stored files)."""
    return [
        relation.field
        for relation in StoredFile._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete and relation.is_relation
    ]


def stored_file_in_use(*, stored_file_id: int) -> bool:
    """Whether any row still refers to the stored file."""
    return any(
        field.model._base_manager.filter(**{field.attname: stored_file_id}).exists()
        for field in stored_file_references()
    )


def stored_file_release(*, stored_file_id: int | None) -> bool:
    """Delete a stored file no row refers to any more (a replaced file, or the file of a
    deleted BMS file, DBC file or model version).

    The row goes now, the bytes once the transaction commits (the ``post_delete`` receiver in
    ``batterydb.signals``). Returns whether it was deleted."""
    if stored_file_id is None or stored_file_in_use(stored_file_id=stored_file_id):
        return False
    deleted, _ = StoredFile.objects.filter(pk=stored_file_id).delete()
    return bool(deleted)


def stored_file_bytes_delete_on_commit(
    *, stored_file: StoredFile, using: str | None = None
) -> None:
    """Remove a deleted stored file's bytes from the storage once the transaction commits
    (never if it rolls back); a storage error is logged, not raised."""
    storage, name = stored_file.file.storage, stored_file.file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name), using=using, robust=True)


def _decode_dbc(raw: bytes) -> str:
    # DBC files are nominally Windows-1252; many tools write UTF-8.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def dbc_parse(*, upload: UploadedFile) -> dict:
    """Parse a DBC upload with cantools and summarize it.

    Returns ``{"message_count", "signal_count", "nodes", "message_names",
    "message_names_truncated"}``; raises ``DBCParseError`` with cantools' message, which
    names the line and column, when the file does not parse.
    """
    from cantools.database import load_string

    upload.seek(0)
    raw = b"".join(upload.chunks())
    upload.seek(0)
    text = _decode_dbc(raw)
    if not text.strip():
        raise DBCParseError("The file is empty.")
    try:
        database = load_string(text, database_format="dbc")
    except Exception as exc:  # cantools raises many exception types on bad input
        message = str(exc).strip() or type(exc).__name__
        raise DBCParseError(f"Not a valid DBC file: {message}") from exc
    messages = database.messages
    names = [message.name for message in messages]
    return {
        "message_count": len(messages),
        "signal_count": sum(len(message.signals) for message in messages),
        "nodes": [node.name for node in database.nodes][:DBC_SUMMARY_MAX_NAMES],
        "message_names": names[:DBC_SUMMARY_MAX_NAMES],
        "message_names_truncated": len(names) > DBC_SUMMARY_MAX_NAMES,
    }
