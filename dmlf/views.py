"""Views of the DMLF API under ``/dmlf/``.

* Catalogues (``institutes``, ``methods``, ``fundingbodies``, ``sampletypes``): read by any
  authenticated user; staff edit them in the admin.
* ``projects``: read by the members of their organization, created by its members.
* ``samples`` (by ``sample_id``) and ``experiments``: read by the members of their project's
  organization, created by its members (multipart or form bodies only: JSON is a 415, as the
  original); changed and deleted by their creator, the organization's owners and staff.
* Files (``samples/{id}/sample_info/``, ``samples/{id}/supplementary_file/``,
  ``experiments/{id}/experiment_file/``, ``methods/{id}/method_file/``,
  ``projects/{id}/project_file/``): streamed to whoever may read the record, as
  ``application/octet-stream`` attachments; records answer their absolute URLs.
* ``api/sample-type-info/`` and ``api/token/`` (``dmlf.urls``).

Lists are complete bare arrays, as the original's, with optional ``limit`` and ``offset`` and
exact-match filters; a list longer than one batch is streamed from the database batch by
batch, so that its memory does not grow with its length, at a constant number of queries
(``dmlf.viewsets``). Each user's requests are counted per method (``dmlf.throttles``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import AccessControlledViewSetMixin, AccessPolicy, CreatorOrRole
from core.files import FileWrites
from core.tenancy import Role
from dmlf import filters, services, wire
from dmlf import serializers as dmlf_serializers
from dmlf.models import Experiment, FundingBody, Institute, Method, Project, Sample, SampleType
from dmlf.sample_types import sample_type_info
from dmlf.throttles import DMLFMethodRateThrottle
from dmlf.viewsets import DMLFViewSetMixin, download_action, list_schema

#: Room for the form fields and multipart framing beside the files of a write.
FORM_OVERHEAD = 1024 * 1024

# --- Catalogues ----------------------------------------------------------------------------------


class CatalogueViewSet(DMLFViewSetMixin, viewsets.GenericViewSet):
    """A platform-wide catalogue: any authenticated user reads it; staff edit it in the
    admin."""

    permission_classes = [permissions.IsAuthenticated]
    shared_list = True


@extend_schema(tags=["institutes"])
class InstituteViewSet(CatalogueViewSet):
    queryset = Institute.objects.all()
    serializer_class = dmlf_serializers.InstituteSerializer
    filterset_class = filters.InstituteFilterSet
    wire = wire.INSTITUTE_WIRE

    @list_schema(dmlf_serializers.InstituteSerializer, "List all institutes")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve an institute")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


@extend_schema(tags=["methods"])
class MethodViewSet(CatalogueViewSet):
    queryset = Method.objects.all()
    serializer_class = dmlf_serializers.MethodSerializer
    filterset_class = filters.MethodFilterSet
    wire = wire.METHOD_WIRE

    @list_schema(dmlf_serializers.MethodSerializer, "List all methods")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve a method")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    method_file = download_action("method_file", "Download a method's files (ZIP)")


@extend_schema(tags=["fundingbodies"])
class FundingBodyViewSet(CatalogueViewSet):
    queryset = FundingBody.objects.all()
    serializer_class = dmlf_serializers.FundingBodySerializer
    filterset_class = filters.FundingBodyFilterSet
    wire = wire.FUNDING_BODY_WIRE

    @list_schema(dmlf_serializers.FundingBodySerializer, "List all funding bodies")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve a funding body")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


@extend_schema(tags=["sampletypes"])
class SampleTypeViewSet(CatalogueViewSet):
    queryset = SampleType.objects.all()
    serializer_class = dmlf_serializers.SampleTypeSerializer
    filterset_class = filters.SampleTypeFilterSet
    wire = wire.SAMPLE_TYPE_WIRE

    @list_schema(dmlf_serializers.SampleTypeSerializer, "List all sample types")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve a sample type")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


# --- Organization-owned records ------------------------------------------------------------------


class RecordViewSet(DMLFViewSetMixin, AccessControlledViewSetMixin, viewsets.GenericViewSet):
    """Records of an organization under an access policy: members read, members create, the
    creator, owners and staff change and delete (403 for a visible record one may not
    change, 404 beyond visibility)."""

    def organization_of(self, validated: dict, instance=None) -> int | None:
        return self.access.organization_id_in(validated, instance)

    def check_moved(self, serializer) -> None:
        """An update that moves the record under another project needs the role there too."""
        instance = serializer.instance
        moved_to = self.organization_of(serializer.validated_data, instance)
        if moved_to != self.organization_of({}, instance):
            self.check_organization_role(moved_to, self.request.method)

    def validated_create(self, request):
        """The body of a create, validated, after the role checks (403 before validating for a
        user who may create in no organization)."""
        self.check_create_allowed()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.access.check_create(request, [self.organization_of(serializer.validated_data)])
        return serializer


@extend_schema(tags=["projects"])
class ProjectViewSet(RecordViewSet):
    queryset = Project.objects.all()
    serializer_class = dmlf_serializers.ProjectSerializer
    filterset_class = filters.ProjectFilterSet
    wire = wire.PROJECT_WIRE
    access = AccessPolicy(
        organization="organization",
        update=CreatorOrRole("created_by", Role.OWNER),
        delete=CreatorOrRole("created_by", Role.OWNER),
    )

    @list_schema(dmlf_serializers.ProjectSerializer, "List all projects")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve a project")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Create a project in one of your organizations",
        description=(
            "An addition to the original API, where staff create projects: a member of the "
            "`organization` creates one there."
        ),
    )
    def create(self, request, *args, **kwargs):
        serializer = self.validated_create(request)
        with transaction.atomic():
            project = services.project_create(data=serializer.validated_data, user=request.user)
            body = self.wire_of(project)
        return Response(body, status=status.HTTP_201_CREATED)

    project_file = download_action("project_file", "Download a project's files (ZIP)")


class UploadRecordViewSet(RecordViewSet):
    """Samples and experiments: multipart or form bodies only, files up to their limits."""

    parser_classes = [MultiPartParser, FormParser]
    max_body_size = settings.DMLF_ZIP_MAX_SIZE + settings.DMLF_SAMPLE_INFO_MAX_SIZE + FORM_OVERHEAD
    access = AccessPolicy(
        organization="project__organization",
        update=CreatorOrRole("user", Role.OWNER),
        delete=CreatorOrRole("user", Role.OWNER),
    )

    def get_queryset(self):
        queryset = super().get_queryset()
        # Writes read the row locked, in their transaction. Not for OPTIONS: DRF's metadata
        # reads the object under the write methods it describes, outside any transaction.
        if self.request.method in ("PUT", "PATCH", "DELETE") and self.action != "metadata":
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def create(self, request, *args, **kwargs):
        serializer = self.validated_create(request)
        with FileWrites() as files, transaction.atomic():
            obj = self.create_record(serializer.validated_data, files)
            body = self.wire_of(obj)
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with FileWrites() as files, transaction.atomic():
            instance = self.get_object()
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_moved(serializer)
            obj = self.update_record(instance, serializer.validated_data, files)
            body = self.wire_of(obj)
        return Response(body)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            self.delete_record(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def create_record(self, data: dict, files: FileWrites):
        raise NotImplementedError

    def update_record(self, instance, data: dict, files: FileWrites):
        raise NotImplementedError

    def delete_record(self, instance) -> None:
        instance.delete()


@extend_schema(tags=["samples"])
class SampleViewSet(UploadRecordViewSet):
    queryset = Sample.objects.all()
    serializer_class = dmlf_serializers.SampleSerializer
    filterset_class = filters.SampleFilterSet
    wire = wire.SAMPLE_WIRE
    lookup_field = "sample_id"
    lookup_value_regex = "[0-9_]+"

    @list_schema(dmlf_serializers.SampleSerializer, "List all samples")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve a sample")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Create a new sample")
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(summary="Update a sample")
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(summary="Partially update a sample (only provided fields)")
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        summary="Delete a sample",
        responses={
            204: None,
            409: OpenApiResponse(description="Experiments or other samples refer to it."),
        },
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def create_record(self, data, files):
        return services.sample_create(data=data, user=self.request.user, files=files)

    def update_record(self, instance, data, files):
        return services.sample_update(sample=instance, data=data, files=files)

    def delete_record(self, instance) -> None:
        services.sample_delete(sample=instance)

    sample_info = download_action("sample_info", "Download a sample's sample_info file (JSON)")
    supplementary_file = download_action(
        "supplementary_file", "Download a sample's supplementary file (ZIP)"
    )


@extend_schema(tags=["experiments"])
class ExperimentViewSet(UploadRecordViewSet):
    queryset = Experiment.objects.all()
    serializer_class = dmlf_serializers.ExperimentSerializer
    filterset_class = filters.ExperimentFilterSet
    wire = wire.EXPERIMENT_WIRE

    @list_schema(dmlf_serializers.ExperimentSerializer, "List all experiments")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Retrieve an experiment")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Create a new experiment")
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(summary="Update an experiment")
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(summary="Partially update an experiment (only provided fields)")
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(summary="Delete an experiment")
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def create_record(self, data, files):
        return services.experiment_create(data=data, user=self.request.user, files=files)

    def update_record(self, instance, data, files):
        return services.experiment_update(experiment=instance, data=data, files=files)

    experiment_file = download_action("experiment_file", "Download an experiment's data file (ZIP)")


# --- Sample-type-info ----------------------------------------------------------------------------

FIELD_INFO_SCHEMA = {
    "type": "object",
    "description": "Each field of the type's sample_info file, in order.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "description": "The field's kind, as a DRF field class."},
            "help_text": {"type": "string"},
            "required": {"type": "boolean"},
            "allow_null": {"type": "boolean"},
        },
        "required": ["type", "help_text", "required", "allow_null"],
    },
}
NOT_FOUND_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string", "example": "Sample type not found"}},
}


class SampleTypeInfoView(APIView):
    """What the ``sample_info`` file of a sample type holds: for each field its kind, help
    text, whether it is required and whether it may be null. The name is matched ignoring
    case (``battery`` is Battery)."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [DMLFMethodRateThrottle]

    @extend_schema(
        summary="Retrieve schema information for a specific sample type",
        operation_id="api_sample_type_info_retrieve",
        tags=["api"],
        parameters=[
            OpenApiParameter(
                "sample_type_name", str, required=True, description="Name of the sample type"
            )
        ],
        responses={
            200: OpenApiResponse(FIELD_INFO_SCHEMA, description="The fields."),
            400: OpenApiResponse(description="The parameter sample_type_name is missing."),
            404: OpenApiResponse(NOT_FOUND_SCHEMA, description="Sample type not found"),
        },
    )
    def get(self, request, *args, **kwargs):
        name = self.name_of(request, **kwargs).strip()
        if not name:
            return Response(
                {"sample_type_name": ["This query parameter is required."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        sample_type = None
        if "\x00" not in name:
            sample_type = SampleType.objects.filter(name__iexact=name).first()
        if sample_type is None:
            return Response({"error": "Sample type not found"}, status=status.HTTP_404_NOT_FOUND)
        return Response(sample_type_info(sample_type.json_schema))

    def name_of(self, request, **kwargs) -> str:
        return request.query_params.get("sample_type_name", "")


class SampleTypeInfoByNameView(SampleTypeInfoView):
    """The same, with the name in the path (the original's earlier form)."""

    @extend_schema(
        summary="Retrieve schema information for a specific sample type",
        operation_id="api_sample_type_info_retrieve_by_name",
        tags=["api"],
        responses={
            200: OpenApiResponse(FIELD_INFO_SCHEMA, description="The fields."),
            404: OpenApiResponse(NOT_FOUND_SCHEMA, description="Sample type not found"),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def name_of(self, request, **kwargs) -> str:
        return kwargs["sample_type_name"]
