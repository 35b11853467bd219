"""The passports and their seven property objects."""

from __future__ import annotations

from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django_filters.rest_framework import DjangoFilterBackend
from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.models import Organization
from core.openapi import PAGE_HEADERS
from core.tenancy import is_staff, organization_roles
from passport import catenax, services
from passport.access import points_by_passport, points_of
from passport.classes import ALL_POINTS
from passport.definitions import ID_FIELD, SECTIONS
from passport.filters import PassportFilterSet
from passport.openapi import PAGE_PARAMETERS, body, ref
from passport.pagination import Page, collector_paused
from passport.renderers import CatenaXRenderer
from passport.serializers import (
    passport_data,
    passport_for_create,
    passport_for_patch,
    passport_for_replace,
    section_data,
    section_for_write,
)
from passport.views.base import (
    NOT_YOURS,
    PATCH_NOTE,
    TRIM_NOTE,
    WRITE_ERRORS,
    PassportViewSetBase,
    answer_rows,
    answers,
    with_reader,
    with_stored_answers,
)


class PassportViewSet(PassportViewSetBase):
    """The passports: list, create, read, replace, merge, delete."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = PassportFilterSet

    def get_queryset(self):
        """Reads answer the stored answers (the Catena-X export reads the document)."""
        queryset = super().get_queryset()
        if self.action in {"list", "retrieve"} and not self._catenax():
            return with_stored_answers(queryset, self.request)
        return queryset

    def _catenax(self) -> bool:
        return isinstance(getattr(self.request, "accepted_renderer", None), CatenaXRenderer)

    def filter_queryset(self, queryset):
        """The list's filters apply to the list only: one passport is found by its id, whatever
        the query string says (and without building the filter set)."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def dispatch(self, request, *args, **kwargs):
        if getattr(self, "action_map", {}).get(request.method.lower()) != "list":
            return super().dispatch(request, *args, **kwargs)
        with collector_paused():
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

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
        page = Page(request, answer_rows(queryset))
        data = answers(request, page.items, points_by_passport(request, page.items))
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

    def get_renderers(self):
        """The detail also answers as a Catena-X battery pass (``?format=catenax``, or its
        media type in ``Accept``)."""
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "retrieve":
            renderers.insert(1, CatenaXRenderer())
        return renderers

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(getattr(self.request, "accepted_renderer", None), CatenaXRenderer):
            self.request.accepted_renderer = ORJSONRenderer()
            self.request.accepted_media_type = ORJSONRenderer.media_type
        return response

    @extend_schema(
        summary="Get the metadata of a given batteryPass",
        description=(
            TRIM_NOTE + " With `?format=catenax` (or `Accept: " + catenax.MEDIA_TYPE + "`), "
            "the passport as a Catena-X battery pass 3.0.1: the manufacturer from the "
            "organization's profile, the values the documented passport lacks from its "
            "extension fields. A value Catena-X requires that the reader may see but the "
            "passport lacks (or holds in a form Catena-X cannot take) is a 422 naming each "
            "one by its Catena-X path; values the reader may not see are left out."
        ),
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", catenax.FORMAT],
                description="`catenax`: the Catena-X battery pass 3.0.1 (default: json).",
            )
        ],
        responses={
            (200, "application/json"): ref("Envelope"),
            (200, catenax.MEDIA_TYPE): ref("CatenaXBatteryPass"),
            422: OpenApiResponse(
                description="Catena-X export only: the values it requires that the passport "
                "(or its organization's profile) lacks, by Catena-X path, each saying what to "
                "fill in."
            ),
        },
    )
    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        points = points_of(request, passport)
        if self._catenax():
            return Response(
                catenax.catenax_export(
                    battery_id=passport.battery_id,
                    document=passport.document,
                    organization=Organization.objects.get(pk=passport.organization_id),
                    points=points,
                )
            )
        return Response({"data": answers(request, [passport], {passport.pk: points})})

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

    def get_queryset(self):
        """A read takes the property object alone out of the document."""
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.only("id", "battery_id", "organization_id")
            return with_reader(queryset, self.request, section=KeyTransform(self.key, "document"))
        return queryset

    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        if passport.section is None:
            return Response({})
        points = points_of(request, passport)
        return Response(section_data({self.key: passport.section}, self.key, points))

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
