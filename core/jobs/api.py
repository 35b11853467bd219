"""``/api/v2/jobs/``: the jobs of the user's organizations (list, detail) and their retry."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.fields import BoundedIsoDateTimeFilter
from core.filters import IntegerFilter
from core.jobs.models import Job
from core.jobs.runner import JobStateError, retry
from core.models import Membership
from core.tenancy import HasOrganizationRole, has_role, scope_queryset


class JobStateSerializer(serializers.Serializer):
    """A job's public state, as ``Job.as_dict()`` gives it: what every answer that shows a job
    carries. An app whose answers show its jobs subclasses it to declare ``result``."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="The job kind.")
    status = serializers.ChoiceField(choices=Job.Status.choices, read_only=True)
    progress = serializers.FloatField(read_only=True, help_text="Fraction done, 0 to 1.")
    error = serializers.CharField(read_only=True, help_text="Why the job failed; else empty.")
    result = serializers.JSONField(
        read_only=True, allow_null=True, help_text="What the job answered, once succeeded."
    )
    attempts = serializers.IntegerField(read_only=True, help_text="Runs started so far.")
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)


class JobSerializer(JobStateSerializer):
    """A job's state with its organization."""

    organization = serializers.IntegerField(source="organization_id", read_only=True)


class JobFilterSet(django_filters.FilterSet):
    """Jobs by ``status``, ``kind``, ``organization`` and the ``created_at__gte`` /
    ``created_at__lte`` range (ISO 8601 instants within the platform's bounds)."""

    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    kind = django_filters.CharFilter()
    organization = IntegerFilter(field_name="organization_id")
    created_at__gte = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_at__lte = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Job
        fields = ["status", "kind", "organization"]


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs of your organizations: status, progress (0 to 1), the result once
    succeeded or the error once failed. Members retry failed jobs."""

    serializer_class = JobSerializer
    queryset = Job.objects.all()
    filterset_class = JobFilterSet
    ordering_fields = ["id", "created_at", "finished_at", "status", "kind"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request, "organization")

    @extend_schema(
        request=None,
        responses={
            202: JobSerializer,
            403: OpenApiResponse(description="Your role in the organization is below member."),
            409: OpenApiResponse(description="The job has not failed."),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Queue a failed job again (its attempts are kept); 409 unless it failed."""
        job = self.get_object()
        if not has_role(request, job.organization_id, Membership.Role.MEMBER):
            raise exceptions.PermissionDenied(HasOrganizationRole.message)
        try:
            job = retry(job)
        except JobStateError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
