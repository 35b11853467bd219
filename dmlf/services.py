"""Writes of the DMLF API: rows together with their files.

Every function here runs inside the caller's transaction and stores bytes through the caller's
``core.files.FileWrites``, which deletes them again if the work fails, so that a rejected or
failed request leaves no file and no row behind. Files go to the storage at the original's
names (``sample_info/<sample_id>.json``, ``supplementary_files/<sample_id>.zip``,
``experiment_files/<pk>.zip``); a file that is replaced is stored beside the old one (the
storage adds a suffix while the old name is taken) and the old one leaves the storage once the
transaction commits.
"""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from rest_framework import exceptions, status

from core.files import FileWrites, file_delete_on_commit
from core.models import User
from dmlf.models import Experiment, Method, Project, Sample, Staff
from dmlf.serializers import SAMPLE_ID_TAKEN

_MISSING = object()


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is still in use."
    default_code = "conflict"


def _replace_file(field_file, name: str, upload: File | None, files: FileWrites) -> None:
    """Point a ``FileField`` at ``upload`` stored under ``name`` (or at nothing); the old bytes
    go once the transaction commits."""
    old = field_file.name
    if upload is None:
        field_file.name = None
    else:
        files.save_field(field_file, name, upload)
    if old and old != field_file.name:
        file_delete_on_commit(storage=field_file.storage, name=old)


def project_create(*, data: dict[str, Any], user: User) -> Project:
    return Project.objects.create(**data, created_by=user)


def sample_create(*, data: dict[str, Any], user: User, files: FileWrites) -> Sample:
    """A new sample with its ``sample_info`` and optional ``supplementary_file``. A sample_id
    taken meanwhile by a concurrent request is the same 400 as one taken before."""
    data = dict(data)
    sample_info = data.pop("sample_info")
    supplementary = data.pop("supplementary_file", None)
    sample = Sample(**data, user=user)
    sample_id = sample.sample_id
    files.save_field(sample.sample_info, f"sample_info/{sample_id}.json", sample_info)
    if supplementary is not None:
        files.save_field(
            sample.supplementary_file, f"supplementary_files/{sample_id}.zip", supplementary
        )
    try:
        with transaction.atomic():
            sample.save(force_insert=True)
    except IntegrityError:
        if Sample.objects.filter(pk=sample_id).exists():
            raise exceptions.ValidationError({"sample_id": [SAMPLE_ID_TAKEN]}) from None
        raise
    return sample


def sample_update(*, sample: Sample, data: dict[str, Any], files: FileWrites) -> Sample:
    """Change a sample's fields and files (only those in ``data``)."""
    data = dict(data)
    data.pop("sample_id", None)
    sample_info = data.pop("sample_info", None)
    supplementary = data.pop("supplementary_file", _MISSING)
    for name, value in data.items():
        setattr(sample, name, value)
    if sample_info is not None:
        _replace_file(sample.sample_info, f"sample_info/{sample.pk}.json", sample_info, files)
    if supplementary is not _MISSING:
        _replace_file(
            sample.supplementary_file,
            f"supplementary_files/{sample.pk}.zip",
            supplementary,
            files,
        )
    sample.save()
    return sample


def sample_delete(*, sample: Sample) -> None:
    """Delete a sample no experiment and no other sample refers to (else a 409 saying which);
    its files leave the storage once the transaction commits (``dmlf.signals``)."""
    experiments = sample.experiments.count()
    children = sample.children.count()
    if experiments or children:
        blocking = []
        if experiments:
            blocking.append(f"{experiments} experiment{'s' if experiments != 1 else ''}")
        if children:
            blocking.append(f"{children} child sample{'s' if children != 1 else ''}")
        raise Conflict(
            f"The sample {sample.pk} cannot be deleted: {' and '.join(blocking)} refer to it. "
            "Delete those first."
        )
    sample.delete()


def experiment_create(*, data: dict[str, Any], user: User, files: FileWrites) -> Experiment:
    """A new experiment with its ``experiment_file``, stored as ``experiment_files/<pk>.zip``
    once the row has its id. Without ``staff``, the user's staff record if there is one."""
    data = dict(data)
    upload = data.pop("experiment_file")
    if "staff" not in data:
        data["staff"] = Staff.objects.filter(user=user).first()
    experiment = Experiment(**data, user=user)
    experiment.save(force_insert=True)
    files.save_field(experiment.experiment_file, f"experiment_files/{experiment.pk}.zip", upload)
    experiment.save(update_fields=["experiment_file"])
    return experiment


def experiment_update(
    *, experiment: Experiment, data: dict[str, Any], files: FileWrites
) -> Experiment:
    """Change an experiment's fields and file (only those in ``data``)."""
    data = dict(data)
    upload = data.pop("experiment_file", None)
    for name, value in data.items():
        setattr(experiment, name, value)
    if upload is not None:
        _replace_file(
            experiment.experiment_file, f"experiment_files/{experiment.pk}.zip", upload, files
        )
    experiment.save()
    return experiment


def catalogue_file_attach(
    *, obj: Method | Project, field_name: str, upload: File | None, files: FileWrites
) -> None:
    """Store the ZIP of a method or project as ``<method|project>_files/<pk>.zip`` (the row
    must have its id), or remove it; saves the row."""
    field_file = getattr(obj, field_name)
    folder = field_file.field.upload_to
    _replace_file(field_file, f"{folder}/{obj.pk}.zip", upload, files)
    obj.save(update_fields=[field_name])
