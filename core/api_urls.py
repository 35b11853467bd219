"""The platform's organizations, members and users endpoints, mounted under ``/api/v2/``
ahead of the BatteryDB router, where its contract lists them; and the background jobs."""

from django.urls import path

from core.jobs.api import JobViewSet
from core.routers import OptionalSlashRouter, optional_slash
from core.views import MembershipViewSet, OrganizationViewSet, UserViewSet

router = OptionalSlashRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("users", UserViewSet, basename="user")
router.register("jobs", JobViewSet, basename="job")

member_list = MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = MembershipViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = optional_slash(
    [
        path(
            "organizations/<int:organization_pk>/members/",
            member_list,
            name="organization-member-list",
        ),
        path(
            "organizations/<int:organization_pk>/members/<int:user_id>/",
            member_detail,
            name="organization-member-detail",
        ),
        *router.urls,
    ]
)
