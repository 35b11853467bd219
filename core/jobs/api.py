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


class JobSerializer(serializers.ModelSerializer):
    """A job's state: what ``Job.as_dict()`` gives, with its organization."""

    class Meta:
        model = Job
        fields = [
            "id",
            "organization",
            "kind",
            "status",
            "progress",
            "error",
            "result",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


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
