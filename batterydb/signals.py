"""Stored files follow the rows that hold them, however those rows are deleted.

A BMS file, DBC file or model version deleted by the API, the admin or a cascade (a BMS test
takes its BMS files, a battery model its versions) releases its stored file; a deleted stored
file's bytes leave the storage once the transaction commits. Connected in
``BatterydbConfig.ready()``. Deleting a whole organization takes another path (plain
``DELETE`` statements, no signals; see ``core.deletion``), which removes the files itself.
"""

from __future__ import annotations

from django.db.models.signals import post_delete

from batterydb.models import StoredFile
from batterydb.services.files import (
    stored_file_bytes_delete_on_commit,
    stored_file_references,
    stored_file_release,
)


def stored_file_deleted(sender, instance: StoredFile, using: str, **kwargs) -> None:
    stored_file_bytes_delete_on_commit(stored_file=instance, using=using)


def file_holder_deleted_receiver(attname: str):
    """A receiver that releases the stored file ``instance.<attname>`` pointed to."""

    def file_holder_deleted(sender, instance, using: str, **kwargs) -> None:
        stored_file_release(stored_file_id=getattr(instance, attname))

    return file_holder_deleted


def connect() -> None:
    post_delete.connect(stored_file_deleted, sender=StoredFile, dispatch_uid="stored-file-bytes")
    for field in stored_file_references():
        post_delete.connect(
            file_holder_deleted_receiver(field.attname),
            sender=field.model,
            weak=False,
            dispatch_uid=f"stored-file-release:{field.model._meta.label}.{field.name}",
        )
