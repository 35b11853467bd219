"""Stored files, shared by the apps: uploads written together with their rows or not at all,
their bytes removed once their rows are gone, and protected downloads.

Uploads:

* :func:`upload_display_name`, :func:`upload_sha256`, :func:`upload_check_size` (a 413 for a
  file over its own limit, below the body's);
* :class:`FileWrites`: the bytes a block of work writes to storage, deleted again if the block
  fails, so that a row and its file exist together or not at all::

      with FileWrites() as files, transaction.atomic():
          name = files.save(storage, "sample_info/240616_125138_010102.json", upload)
          Sample.objects.create(..., sample_info=name)

  Put it outside the transaction, around everything that may still fail after the bytes are
  written (rendering the answer included): there is no hook for a rollback;
* :func:`stored_file_create`: a row of a file model (a model with a ``FileField`` named
  ``file`` and the upload's ``name``, ``size``, ``content_type`` and ``sha256``) and its bytes.

Deleting: :func:`file_delete_on_commit` removes bytes once the transaction commits (never if
it rolls back); :func:`stored_file_references`, :func:`stored_file_in_use` and
:func:`stored_file_release` delete a file row nothing refers to any more.

Downloads: :func:`file_download_response` streams a stored file with constant memory under
either server (``core.streaming``) as an ``application/octet-stream`` attachment with
``X-Content-Type-Options: nosniff`` and a cleaned file name, whatever type the uploader claimed;
views that serve it use :class:`AnyAcceptContentNegotiation`. The access check is the view's:
files are never served as public media.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Iterable

from django.core.files import File
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation

from core.exceptions import PayloadTooLarge
from core.streaming import file_response

logger = logging.getLogger(__name__)

DOWNLOAD_CONTENT_TYPE = "application/octet-stream"
DEFAULT_NAME_MAX_LENGTH = 255


# --- Uploads -----------------------------------------------------------------------------------


def upload_display_name(upload: File, max_length: int = DEFAULT_NAME_MAX_LENGTH) -> str:
    """The uploaded file's own name without any client path (``C:\\Users\\x\\run.csv`` gives
    ``run.csv``), shortened to ``max_length`` keeping its extension: as people download it."""
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip() or "upload"
    if len(name) > max_length:
        stem, ext = os.path.splitext(name)
        name = stem[: max_length - len(ext)] + ext
    return name


def upload_sha256(upload: File) -> str:
    """The SHA-256 of the upload's bytes, read in chunks; the upload is left at its start."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def upload_check_size(upload: File, *, limit: int, what: str = "This file") -> None:
    """A 413 (``PayloadTooLarge``) for an upload over ``limit`` bytes, saying the limit."""
    size = upload.size or 0
    if size > limit:
        raise PayloadTooLarge(f"{what} is {size} bytes; the limit is {limit} bytes.")


class FileWrites:
    """Bytes written to storage during a block of work that also writes rows; if the block
    raises, they are deleted again (see the module's docstring). :meth:`save` streams the
    content to the storage in chunks (a file on disk, such as a large upload, is moved or
    copied, never read whole into memory)."""

    def __init__(self) -> None:
        self.written: list[tuple[Storage, str]] = []

    def save(
        self, storage: Storage, name: str, content: File, *, max_length: int | None = None
    ) -> str:
        """Store ``content`` under ``name`` (or the name the storage makes of it when ``name``
        is taken, at most ``max_length`` long); the name it was stored under."""
        content.seek(0)
        saved = storage.save(name, content, max_length=max_length)
        self.written.append((storage, saved))
        return saved

    def save_field(self, field_file: FieldFile, name: str, content: File) -> str:
        """Store ``content`` for a model's ``FileField`` (its storage, ``name`` as the field's
        ``upload_to`` would give it) and point the field at it, without saving the row."""
        field_file.name = self.save(
            field_file.storage, name, content, max_length=field_file.field.max_length
        )
        field_file._committed = True
        return field_file.name

    def discard(self) -> None:
        """Delete every file written so far; a storage error is logged, not raised."""
        while self.written:
            storage, name = self.written.pop()
            try:
                storage.delete(name)
            except Exception:
                logger.exception("Could not delete the stored file %s", name)

    def __enter__(self) -> FileWrites:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is not None:
            self.discard()
        return False


def stored_file_create(
    *,
    model: type[models.Model],
    upload: File,
    files: FileWrites | None = None,
    **fields,
) -> models.Model:
    """A row of the file model ``model`` for ``upload`` (its display name, size, content type
    and SHA-256, plus ``fields``), with its bytes stored by the model's ``file`` field.

    The bytes and the row are written together or not at all: when ``files`` is given the
    bytes join it (and go if its block fails), otherwise they are removed at once if the row
    cannot be written."""
    name_field = model._meta.get_field("name")
    name = upload_display_name(upload, name_field.max_length or DEFAULT_NAME_MAX_LENGTH)
    stored = model(
        name=name,
        size=upload.size or 0,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        sha256=upload_sha256(upload),
        **fields,
    )
    own = files is None
    writes = FileWrites() if own else files
    try:
        with transaction.atomic():
            target = stored.file.field.generate_filename(stored, name)
            writes.save_field(stored.file, target, upload)
            stored.save()
    except BaseException:
        if own:
            writes.discard()
        raise
    return stored


# --- Deleting ----------------------------------------------------------------------------------


def file_delete_on_commit(*, storage: Storage, name: str | None, using: str | None = None) -> None:
    """Remove ``name`` from ``storage`` once the transaction commits (never if it rolls back);
    a storage error is logged, not raised."""
    if name:
        transaction.on_commit(lambda: storage.delete(name), using=using, robust=True)


def field_files_delete_on_commit(
    instance: models.Model, field_names: Iterable[str], *, using: str | None = None
) -> None:
    """The bytes of the named ``FileField``\\ s of a deleted row leave the storage once the
    transaction commits (for a ``post_delete`` receiver)."""
    for field_name in field_names:
        field_file = getattr(instance, field_name)
        file_delete_on_commit(storage=field_file.storage, name=field_file.name, using=using)


def stored_file_references(model: type[models.Model]) -> list[models.ForeignKey]:
    """The foreign keys of every model to the file model ``model``."""
    return [
        relation.field
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete and relation.is_relation
    ]


def stored_file_in_use(*, model: type[models.Model], pk) -> bool:
    """Whether any row still refers to the file row ``pk`` of ``model``."""
    return any(
        field.model._base_manager.filter(**{field.attname: pk}).exists()
        for field in stored_file_references(model)
    )


def stored_file_release(*, model: type[models.Model], pk) -> bool:
    """Delete the file row ``pk`` of ``model`` when no row refers to it any more (a replaced
    file, or the file of a deleted row); its bytes go through the model's ``post_delete``
    receiver. Returns whether it was deleted."""
    if pk is None or stored_file_in_use(model=model, pk=pk):
        return False
    deleted, _ = model.objects.filter(pk=pk).delete()
    return bool(deleted)


# --- Downloads ---------------------------------------------------------------------------------


def download_filename(name: str) -> str:
    """A file name without control characters or path separators, for ``Content-Disposition``
    (which quotes or percent-encodes the rest)."""
    cleaned = "".join(
        "_" if ch in "/\\" else ch for ch in name if unicodedata.category(ch)[0] != "C"
    )
    return cleaned.strip(" .") or "download"


class AnyAcceptContentNegotiation(BaseContentNegotiation):
    """For downloads: any ``Accept`` gets the file; errors are still rendered as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def file_download_response(
    request, field_file: FieldFile, *, filename: str, etag: str | None = None
) -> FileResponse:
    """The bytes of ``field_file`` as an ``application/octet-stream`` attachment named
    ``filename`` (cleaned), with ``nosniff`` and ``etag`` if given, streamed in blocks under
    either server. A missing file is a 404 that says so."""
    if not field_file:
        raise NotFound("This object has no file.")
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound("The stored file is missing.") from exc
    # Whatever the uploader claimed (text/html, image/svg+xml...), a browser must neither
    # render the bytes in the site's origin nor guess a type for them.
    response = file_response(
        request, handle, filename=download_filename(filename), content_type=DOWNLOAD_CONTENT_TYPE
    )
    response["X-Content-Type-Options"] = "nosniff"
    if etag:
        response["ETag"] = f'"{etag}"'
    return response
