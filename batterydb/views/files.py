"""The resources that carry an uploaded file: BMS files, DBC files and model versions.

A multipart ``file`` part is stored as a ``StoredFile`` before the resource is saved, in the
same transaction; ``{id}/download/`` streams it back as an ``application/octet-stream``
attachment. A deleted resource releases its stored file (the row at once, the bytes after the
commit: ``batterydb.signals``). Request bodies may be as large as ``API_MAX_UPLOAD_SIZE`` (the
core middleware answers 413 above it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from batterydb import filters
from batterydb.models import BMSFile, DBCFile, ModelVersion, StoredFile
from batterydb.serializers import resources as serializers
from batterydb.services.files import stored_file_create, stored_file_release
from batterydb.views.resources import TIMESTAMPS, ResourceViewSet, crud_schema, projects_prefetch
from core.files import AnyAcceptContentNegotiation, FileWrites, file_download_response


class StoredFileViewSetMixin:
    """Stores the uploaded ``file`` part and swaps it for the ``StoredFile`` before saving;
    releases a replaced stored file; serves ``{id}/download/``. (A deleted resource releases
    its file through ``batterydb.signals``.)"""

    max_body_size = settings.API_MAX_UPLOAD_SIZE

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "download":
            queryset = queryset.select_related("file")
        return queryset

    def _store_upload(self, serializer, organization, writes: FileWrites) -> StoredFile | None:
        upload = serializer.validated_data.get("file")
        if upload is None:
            return None
        stored = stored_file_create(
            organization=organization, upload=upload, user=self.request.user, writes=writes
        )
        serializer.validated_data["file"] = stored
        return stored

    def perform_create(self, serializer):
        data = serializer.validated_data
        if isinstance(data, list) or data.get("file") is None:
            return super().perform_create(serializer)
        organization = data["organization"]
        # Refuse before any bytes are written.
        self.check_organization_role(organization.pk, "POST")
        with FileWrites() as writes, transaction.atomic():
            self._store_upload(serializer, organization, writes)
            super().perform_create(serializer)

    def perform_update(self, serializer):
        if "file" not in serializer.validated_data:
            return super().perform_update(serializer)
        instance = serializer.instance
        previous_file_id = instance.file_id
        with FileWrites() as writes, transaction.atomic():
            self._store_upload(serializer, instance.organization, writes)
            super().perform_update(serializer)
            if previous_file_id != instance.file_id:
                stored_file_release(stored_file_id=previous_file_id)

    @extend_schema(
        summary="Download the file",
        description=(
            "The stored file's bytes, as an attachment with its original name, always as "
            "`application/octet-stream` (never the type the uploader claimed)."
        ),
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file."
            ),
            404: OpenApiResponse(description="No such object, or it has no file."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        content_negotiation_class=AnyAcceptContentNegotiation,
        filter_backends=[],
        pagination_class=None,
    )
    def download(self, request, pk=None):
        stored = self.get_object().file
        if stored is None:
            raise NotFound("This object has no file.")
        # Streamed in blocks under either server (core.streaming): a large file never sits
        # in memory.
        return file_download_response(
            request, stored.file, filename=stored.name, etag=stored.sha256 or None
        )


@crud_schema("BMS file", "BMS files")
class BMSFileViewSet(StoredFileViewSetMixin, ResourceViewSet):
    """Data files associated with BMS tests. Create with a multipart `file` part."""

    queryset = BMSFile.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.BMSFileSerializer
    filterset_class = filters.BMSFileFilterSet
    ordering_fields = ["id", *TIMESTAMPS]


@crud_schema("DBC file", "DBC files")
class DBCFileViewSet(StoredFileViewSetMixin, ResourceViewSet):
    """Configuration files for interpreting BMS data. Create with a multipart `file` part; the
    file must parse as DBC, and `summary` lists its messages and signals."""

    queryset = DBCFile.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.DBCFileSerializer
    filterset_class = filters.DBCFileFilterSet
    ordering_fields = ["id", "name", *TIMESTAMPS]


@crud_schema("model version", "model versions")
class ModelVersionViewSet(StoredFileViewSetMixin, ResourceViewSet):
    """A version of a battery model; a file may be attached at create or later."""

    queryset = ModelVersion.objects.select_related("created_by").prefetch_related(
        projects_prefetch()
    )
    serializer_class = serializers.ModelVersionSerializer
    filterset_class = filters.ModelVersionFilterSet
    ordering_fields = ["id", "version", *TIMESTAMPS]
