"""Views of the Digital Battery Passport API under ``/passport/``.

* ``batteryPass``: the list (one array holding one envelope, ``[{"data": [...]}]``, paged by
  ``limit``/``offset`` with ``X-Total-Count`` and ``Link``) and create (``{"data": [p]}``);
* ``batteryPass/{id}``: read, replace (PUT), merge (PATCH, RFC 7396), delete;
* ``batteryPass/{id}/<section>``: the seven property objects, bare, read, replaced, merged;
* ``batteryPass/{id}/grants``: the access classes the organization grants;
* ``batteryPass/{id}/history`` and ``history/{n}``: every version;
* ``batteryPass/{id}/completeness``: what Annex XIII requires and is missing.

Who may do what is ``passport.access``; every answer is trimmed to the reader's points of
Annex XIII (``passport.classes``). Bodies are JSON objects only.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from core.access import AccessControlledViewSetMixin
from core.models import Organization
from core.parsers import ORJSONParser
from core.tenancy import Role, has_role, is_staff, organization_roles
from passport import services
from passport.access import (
    PASSPORT_ACCESS,
    RESTRICTED,
    is_member_or_staff,
    points_by_passport,
    points_of,
)
from passport.classes import ALL_POINTS, node_at, trim
from passport.completeness import UNKNOWN, completeness_of
from passport.filters import PassportFilterSet
from passport.models import Passport
from passport.openapi import PAGE_HEADERS, PAGE_PARAMETERS, PassportAutoSchema, body, ref
from passport.pagination import Page
from passport.schema import ID_FIELD, ID_REGEX, SECTIONS, path_parts
from passport.serializers import (
    PassportFormSerializer,
    PassportGrantListSerializer,
    PassportGrantSerializer,
    passport_data,
    passport_for_create,
    passport_for_patch,
    passport_for_replace,
    section_data,
    section_for_write,
)

HistoricalPassport = Passport.history.model

PATCH_NOTE = (
    "The body is merged into the stored passport as JSON Merge Patch does (RFC 7396): objects "
    "merge key by key, `null` removes a key, any other value (an array too) replaces what was "
    "there. The result is checked as a whole."
)
TRIM_NOTE = (
    "Trimmed to the reader (EU Battery Regulation 2023/1542, Annex XIII): anyone sees point 1; "
    "a user granted legitimate interest points 1, 2 and 4; a user granted authorities points "
    "1, 2 and 3; the owning organization's members and staff everything. Keys the reader may "
    "not see are left out."
)
NOT_YOURS = (
    "Only members of the passport's organization may do this (members to create and update, "
    "owners to delete); a grant never allows writing."
)
WRITE_ERRORS = {
    403: OpenApiResponse(description=NOT_YOURS),
}


class PassportViewSetBase(AccessControlledViewSetMixin, viewsets.GenericViewSet):
    """A passport found by its ``batteryIDDMCCode`` under the passport access policy. Writes
    read the row locked (``SELECT ... FOR UPDATE``) in the transaction that changes it."""

    access = PASSPORT_ACCESS
    queryset = Passport.objects.all()
    lookup_field = "battery_id"
    lookup_url_kwarg = ID_FIELD
    lookup_value_regex = ID_REGEX
    parser_classes = [ORJSONParser]
    serializer_class = PassportFormSerializer
    filter_backends: list = []
    pagination_class = None
    schema = PassportAutoSchema()

    def get_queryset(self):
        queryset = super().get_queryset()
        # Not for OPTIONS: DRF's metadata reads the object under the write methods it
        # describes, outside any transaction.
        if self.request.method not in SAFE_METHODS and self.action != "metadata":
            queryset = queryset.select_for_update()
        return queryset

    def user(self):
        return self.request.user if self.request.user.is_authenticated else None


class PassportViewSet(PassportViewSetBase):
    """The passports: list, create, read, replace, merge, delete."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = PassportFilterSet

    @extend_schema(
        summary="Get a list of all available digital battery passports",
        description=(
            "One array holding one envelope with the page's passports: "
            '`[{"data": [p1, p2, ...]}]`, ordered by creation. The total is in `X-Total-Count`, '
            "the next page in `Link`. " + TRIM_NOTE
        ),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "batteryCategory", str, description="Only this batteryCategory (exact text)."
            ),
            OpenApiParameter("organization", int, description="Only this organization's."),
            OpenApiParameter(
                "q", str, description="A part of the id or of placeOfManufacturing (any case)."
            ),
            OpenApiParameter(
                "complete",
                bool,
                description="Whether every field Annex XIII requires for the category is filled "
                "in (`false`: incomplete ones, unknown categories included).",
            ),
            *PAGE_HEADERS,
        ],
        responses={200: {"type": "array", "items": ref("Envelope")}},
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset()).order_by("id")
        page = Page(request, queryset)
        points = points_by_passport(request, page.items)
        data = [passport_data(passport, points[passport.pk]) for passport in page.items]
        return Response([{"data": data}], headers=page.headers())

    @extend_schema(
        summary="Add a new digital battery passport",
        description=(
            "One passport (a JSON list is a 400, not a bulk create). `organization` may be left "
            "out by a user who belongs to exactly one organization; creating needs the member "
            "role there. Every problem of the body is reported at once, under its JSON path."
        ),
        request=body("BatteryPass", required=[ID_FIELD]),
        responses={
            201: ref("Envelope"),
            403: OpenApiResponse(description=NOT_YOURS),
            409: OpenApiResponse(description="A passport with this batteryIDDMCCode exists."),
        },
    )
    def create(self, request, *args, **kwargs):
        self.check_create_allowed()
        checked = passport_for_create(request.data, resolve_organization=self._organization)
        self.access.check_create(request, [checked.organization])
        with transaction.atomic():
            passport = services.passport_create(
                organization_id=checked.organization,
                battery_id=checked.battery_id,
                document=checked.document,
                user=self.user(),
            )
        return Response(
            {"data": [passport_data(passport, ALL_POINTS)]}, status=status.HTTP_201_CREATED
        )

    def _organization(self, named: int | None) -> tuple[int | None, str | None]:
        """The organization a new passport goes to, or why there is none."""
        roles = organization_roles(self.request)
        if named is None:
            if len(roles) == 1:
                return next(iter(roles)), None
            return None, (
                f"Name the organization (its id): you belong to {len(roles)} organizations."
                if roles
                else "Name the organization (its id)."
            )
        if named in roles or (
            is_staff(self.request) and Organization.objects.filter(pk=named).exists()
        ):
            return named, None
        return None, f"No organization {named} among yours."

    @extend_schema(
        summary="Get the metadata of a given batteryPass",
        description=TRIM_NOTE,
        responses={200: ref("Envelope")},
    )
    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        return Response({"data": [passport_data(passport, points_of(request, passport))]})

    @extend_schema(
        summary="Update an BattPassport",
        description=(
            "Replaces the whole passport. A batteryIDDMCCode or organization in the body must "
            "equal the passport's."
        ),
        request=body("BatteryPass"),
        responses={200: ref("Envelope"), **WRITE_ERRORS},
    )
    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            passport = self.get_object()
            document = passport_for_replace(
                request.data,
                battery_id=passport.battery_id,
                organization_id=passport.organization_id,
            )
            services.passport_update(passport=passport, document=document, user=self.user())
        return Response({"data": [passport_data(passport, ALL_POINTS)]})

    @extend_schema(
        summary="Update some fields of a BattPassport",
        description=PATCH_NOTE,
        request=body("BatteryPass"),
        responses={200: ref("Envelope"), **WRITE_ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        with transaction.atomic():
            passport = self.get_object()
            document = passport_for_patch(
                request.data,
                battery_id=passport.battery_id,
                organization_id=passport.organization_id,
                current=passport.document,
            )
            services.passport_update(passport=passport, document=document, user=self.user())
        return Response({"data": [passport_data(passport, ALL_POINTS)]})

    @extend_schema(
        summary="Delete a BattPassport (owners)",
        description="Its grants go with it; its history stays for its organization and staff.",
        responses={204: None, **WRITE_ERRORS},
    )
    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            passport = self.get_object()
            services.passport_delete(passport=passport, user=self.user())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PassportSectionViewSet(PassportViewSetBase):
    """One property object of a passport, bare: read, replaced (PUT) or merged (PATCH)."""

    #: The URL segment of the section (a key of ``passport.schema.SECTIONS``).
    section = ""

    @property
    def key(self) -> str:
        return SECTIONS[self.section][0]

    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        return Response(section_data(passport.document, self.key, points_of(request, passport)))

    def update(self, request, *args, **kwargs):
        return self._write(request, partial=False)

    def partial_update(self, request, *args, **kwargs):
        return self._write(request, partial=True)

    def _write(self, request, *, partial: bool):
        with transaction.atomic():
            passport = self.get_object()
            document = section_for_write(
                request.data,
                key=self.key,
                battery_id=passport.battery_id,
                current=passport.document,
                partial=partial,
            )
            services.passport_update(passport=passport, document=document, user=self.user())
        return Response(section_data(passport.document, self.key, ALL_POINTS))


def _section_viewset(section: str) -> type[PassportSectionViewSet]:
    key, definition = SECTIONS[section]
    component = ref(definition)
    request = body(definition)
    name = section[0].upper() + section[1:]
    schemas = {
        "retrieve": extend_schema(
            summary=f"Get the {section} of a given batteryPass",
            description=f"`{key}` of the passport, bare; `{{}}` when nothing of it is there "
            "or visible. " + TRIM_NOTE,
            responses={200: component},
        ),
        "update": extend_schema(
            summary=f"Update the {section} in a batteryPass",
            description=f"Replaces `{key}` of the passport; errors name paths inside it.",
            request=request,
            responses={200: component, **WRITE_ERRORS},
        ),
        "partial_update": extend_schema(
            summary=f"Update some fields of the {section} in a batteryPass",
            description=PATCH_NOTE,
            request=request,
            responses={200: component, **WRITE_ERRORS},
        ),
    }
    methods = {}
    for action, decorate in schemas.items():

        def handler(self, request, *args, _action=action, **kwargs):
            return getattr(PassportSectionViewSet, _action)(self, request, *args, **kwargs)

        handler.__name__ = action
        methods[action] = decorate(handler)
    return type(f"{name}ViewSet", (PassportSectionViewSet,), {"section": section, **methods})


SECTION_VIEWSETS = {section: _section_viewset(section) for section in SECTIONS}


class PassportHistoryViewSet(viewsets.GenericViewSet):
    """The versions of a passport, newest first, trimmed to the reader. Read by whoever sees
    more than the public point (a grant or the organization) and staff; once the passport is
    deleted, by its organization and staff only."""

    permission_classes = [IsAuthenticated]
    serializer_class = PassportFormSerializer
    pagination_class = None
    filter_backends: list = []
    schema = PassportAutoSchema()
    queryset = HistoricalPassport.objects.none()

    def versions(self):
        """The passport's versions (without the record of its deletion) and the reader's
        points."""
        battery_id = self.kwargs[ID_FIELD]
        passport = Passport.objects.filter(battery_id=battery_id).first()
        if passport is not None:
            points = points_of(self.request, passport)
            if not points & RESTRICTED:
                raise PermissionDenied(
                    "The history of a passport is read by its organization and by users it "
                    "granted legitimate interest or authorities access."
                )
            passport_pk = passport.pk
        else:
            last = (
                HistoricalPassport.objects.filter(battery_id=battery_id)
                .order_by("-history_id")
                .values("id", "organization_id")
                .first()
            )
            if last is None or not is_member_or_staff(self.request, last["organization_id"]):
                raise NotFound("No passport with this batteryIDDMCCode.")
            passport_pk, points = last["id"], ALL_POINTS
        versions = HistoricalPassport.objects.filter(id=passport_pk, battery_id=battery_id)
        return versions.exclude(history_type="-"), points

    @extend_schema(
        summary="Get the versions of a batteryPass",
        description=(
            "Newest first: who changed what and when, with JSON paths into the passport; "
            "version 1 is the passport as created. Paged like the list. " + TRIM_NOTE
        ),
        parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS],
        responses={
            200: ref("History"),
            403: OpenApiResponse(
                description="The reader sees only the public point of this passport."
            ),
        },
    )
    def list(self, request, *args, **kwargs):
        versions, points = self.versions()
        versions = versions.select_related("history_user").order_by("-version", "-history_id")
        page = Page(request, versions)
        data = [
            {
                "version": version.version,
                "at": version.history_date.isoformat().replace("+00:00", "Z"),
                "by": version.history_user.username if version.history_user else None,
                "changes": visible_changes(version.changes, points),
            }
            for version in page.items
        ]
        return Response({"data": data}, headers=page.headers())

    @extend_schema(
        summary="Get a batteryPass as it was at a version",
        description=TRIM_NOTE,
        responses={
            200: ref("Envelope"),
            403: OpenApiResponse(
                description="The reader sees only the public point of this passport."
            ),
        },
    )
    def retrieve(self, request, *args, **kwargs):
        versions, points = self.versions()
        version = versions.filter(version=self.kwargs["version"]).order_by("-history_id").first()
        if version is None:
            raise NotFound("No such version of this passport.")
        return Response({"data": [passport_data(version, points)]})


def _shown(value, points, node):
    """``value`` at ``node`` as ``points`` may see it, and whether anything of it shows."""
    if value is None:
        return None, False
    visible = trim(value, points, node)
    if visible is None or (visible == {} and value != {}):
        return None, False
    return visible, True


def visible_changes(changes: list[dict], points: frozenset[int]) -> list[dict]:
    """The changes of a version as ``points`` may see them: a change of a field the reader
    may not see goes; a change of a whole object keeps only its visible part."""
    if points >= ALL_POINTS:
        return changes
    result = []
    for change in changes:
        node = node_at(path_parts(change["path"]))
        if node is None:
            continue
        old, old_shows = _shown(change["old"], points, node)
        new, new_shows = _shown(change["new"], points, node)
        if old_shows or new_shows:
            result.append({"path": change["path"], "old": old, "new": new})
    return result


class PassportGrantViewSet(viewsets.GenericViewSet):
    """The access classes a passport's organization gives users: its members read them,
    members (member role) give and take them. ``validUntil`` is inclusive, in UTC."""

    permission_classes = [IsAuthenticated]
    parser_classes = [ORJSONParser]
    serializer_class = PassportGrantSerializer
    pagination_class = None
    filter_backends: list = []
    schema = PassportAutoSchema()
    queryset = Passport.objects.none()

    def passport(self, role: str) -> Passport:
        passport = get_object_or_404(Passport, battery_id=self.kwargs[ID_FIELD])
        if not has_role(self.request, passport.organization_id, role):
            raise PermissionDenied(
                "Only members of the passport's organization see and change its grants "
                f"(the {role} role at least)."
            )
        return passport

    @extend_schema(
        summary="Get the access grants of a batteryPass",
        parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS],
        responses={
            200: PassportGrantListSerializer,
            403: OpenApiResponse(description="Not a member of the passport's organization."),
        },
    )
    def list(self, request, *args, **kwargs):
        passport = self.passport(Role.VIEWER)
        page = Page(request, passport.grants.select_related("user").order_by("id"))
        data = PassportGrantSerializer(page.items, many=True).data
        return Response({"data": data}, headers=page.headers())

    @extend_schema(
        summary="Grant a user an access class on a batteryPass",
        request=PassportGrantSerializer,
        responses={
            201: PassportGrantSerializer,
            403: OpenApiResponse(description="Not a member (member role) of the organization."),
            409: OpenApiResponse(description="The user already holds this class."),
        },
    )
    def create(self, request, *args, **kwargs):
        passport = self.passport(Role.MEMBER)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        serializer = PassportGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_create(
            passport=passport,
            user=serializer.validated_data["email"],
            access=serializer.validated_data["access"],
            valid_until=serializer.validated_data.get("valid_until"),
            created_by=request.user,
        )
        return Response(PassportGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw an access grant",
        parameters=[OpenApiParameter("grant_id", int, OpenApiParameter.PATH)],
        responses={
            204: None,
            403: OpenApiResponse(description="Not a member (member role) of the organization."),
        },
    )
    def destroy(self, request, *args, **kwargs):
        passport = self.passport(Role.MEMBER)
        grant = get_object_or_404(passport.grants, pk=self.kwargs["grant_id"])
        services.grant_delete(grant=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PassportCompletenessViewSet(PassportViewSetBase):
    """What Annex XIII requires of a passport's category and is missing."""

    @extend_schema(
        summary="Get the Annex XIII completeness of a batteryPass",
        description=(
            "The category is recognised from batteryCategory (LMT battery, electric vehicle "
            "battery, industrial battery, stationary battery energy storage system; any case); "
            "anything else answers `category unknown`. `complete` and `percentage` are over "
            "every point; `points` shows the points the reader sees, with the missing paths."
        ),
        responses={200: ref("Completeness")},
    )
    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        points = points_of(request, passport)
        document = {ID_FIELD: passport.battery_id, **passport.document}
        result = completeness_of(document)
        if result.category is None:
            state = UNKNOWN
        else:
            state = "complete" if result.complete else "incomplete"
        return Response(
            {
                ID_FIELD: passport.battery_id,
                "batteryCategory": passport.document.get("batteryCategory"),
                "category": result.category,
                "status": state,
                "complete": result.complete,
                "percentage": result.percentage,
                "points": {
                    str(number): {
                        "required": point.required,
                        "present": point.present,
                        "percentage": point.percentage,
                        "missing": point.missing,
                    }
                    for number, point in result.points.items()
                    if number in points
                },
            }
        )
