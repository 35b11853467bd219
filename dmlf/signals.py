"""Files follow the rows that hold them: a deleted sample, experiment, method or project
(through the API, the admin or a cascade) takes its files out of the storage once the
transaction commits. Connected in ``DmlfConfig.ready()``. Deleting a whole organization takes
another path (``core.deletion``), which removes the files itself."""

from __future__ import annotations

from django.db.models.signals import post_delete

from core.files import field_files_delete_on_commit
from dmlf.models import Experiment, Method, Project, Sample

FILE_FIELDS = {
    Sample: ("sample_info", "supplementary_file"),
    Experiment: ("experiment_file",),
    Method: ("method_file",),
    Project: ("project_file",),
}


def files_deleted(sender, instance, using: str, **kwargs) -> None:
    field_files_delete_on_commit(instance, FILE_FIELDS[sender], using=using)


def connect() -> None:
    for model in FILE_FIELDS:
        post_delete.connect(
            files_deleted, sender=model, dispatch_uid=f"dmlf-files:{model._meta.label}"
        )
