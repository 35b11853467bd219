"""``POST /api/v2/eis/tests/{id}/import/``: an instrument file's sweep as the test's EIS data.

The file is read in a bounded child process and its sweep written through the bulk path
(``batterydb.services.instruments``), within the request: a sweep is small. Writing needs the
Member role in the test's organization; other organizations' tests answer 404.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from batterydb.models import EISTest
from batterydb.services.ingest import ConcurrentChange, DuplicatePoints
from batterydb.services.instruments import (
    InstrumentFileError,
    InstrumentFileTooLarge,
    SweepOutOfRange,
    eis_test_import,
)
from batterydb.views.measurements import (
    ON_CONFLICT_CHOICES,
    ON_CONFLICT_PARAM,
    Conflict,
    body_with_query_options,
)
from core.access import AccessControlledViewSetMixin
from core.exceptions import PayloadTooLarge

#: The highest sweep number asked for (a file holds far fewer).
MAX_SWEEP = 100_000


class EISImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The instrument file: BioLogic EC-Lab binary (.mpr) or text export (.mpt), "
        "Gamry (.dta), CSV or .xlsx."
    )
    sweep = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SWEEP,
        default=1,
        help_text="Which sweep of a multi-sweep file to import, counting from 1 (the first).",
    )
    on_conflict = serializers.ChoiceField(
        choices=ON_CONFLICT_CHOICES,
        default="error",
        help_text="`replace` gives points already stored the file's values; `error` (default) "
        "refuses the whole file when one is stored. Also accepted as a query parameter.",
    )


class EISImportResultSerializer(serializers.Serializer):
    test = serializers.IntegerField(help_text="The EIS test written to.")
    format = serializers.ChoiceField(
        choices=["biologic-mpr", "biologic-mpt", "gamry-dta", "csv", "xlsx"],
        help_text="The file's format.",
    )
    sweeps = serializers.IntegerField(help_text="How many sweeps the file holds.")
    sweep = serializers.IntegerField(help_text="The sweep imported (1-based).")
    points = serializers.IntegerField(help_text="Frequencies imported (two rows each).")
    created = serializers.IntegerField(help_text="EIS data rows created.")
    replaced = serializers.IntegerField(help_text="Stored rows given new values.")


class EISTestImportView(AccessControlledViewSetMixin, generics.GenericAPIView):
    """Import one sweep of an instrument file as an EIS test's data."""

    queryset = EISTest.objects.all()
    serializer_class = EISImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    max_body_size = settings.API_MAX_UPLOAD_SIZE
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="eis_tests_import_create",
        summary="Import an instrument file's sweep as the test's EIS data (Member role)",
        description=(
            "Multipart form with the `file`, optionally `sweep` (1-based, default the first) "
            "and `on_conflict` (`error` or `replace`, also as a query parameter). The sweep's "
            "points become `z_real` and `z_imag` rows (ohm) at their frequencies (Hz); `z_imag` "
            "is Im(Z), negative for a capacitive response (BioLogic's `-Im(Z)/Ohm` is turned; "
            "Gamry's `Zimag` is Im(Z) already). All rows or none: a file that does not parse, "
            "a sweep that does not exist or a point already stored (without `replace`) is a "
            "400 that says why, with nothing written. The file is read with memory, CPU and "
            "time limits; a file over the size limit is a 413."
        ),
        request={"multipart/form-data": EISImportSerializer},
        parameters=[
            OpenApiParameter(
                "sweep", int, description="As the form field `sweep` (the form field wins)."
            ),
            OpenApiParameter(
                ON_CONFLICT_PARAM,
                str,
                enum=list(ON_CONFLICT_CHOICES),
                description="As the form field `on_conflict` (the form field wins).",
            ),
        ],
        responses={
            201: OpenApiResponse(EISImportResultSerializer, description="The sweep written."),
            409: OpenApiResponse(description="The test was deleted while the data were written."),
        },
        examples=[
            OpenApiExample(
                "Imported",
                value={
                    "test": 12,
                    "format": "biologic-mpt",
                    "sweeps": 3,
                    "sweep": 1,
                    "points": 42,
                    "created": 84,
                    "replaced": 0,
                },
                response_only=True,
                status_codes=["201"],
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        test = self.get_object()  # 404 outside the user's organizations, 403 for a viewer
        data = body_with_query_options(request, (ON_CONFLICT_PARAM, "sweep"))
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        try:
            result = eis_test_import(
                test=test,
                upload=options["file"],
                sweep=options["sweep"],
                replace=options["on_conflict"] == "replace",
            )
        except InstrumentFileTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from exc
        except SweepOutOfRange as exc:
            raise exceptions.ValidationError({"sweep": [str(exc)]}) from exc
        except InstrumentFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        except DuplicatePoints as exc:
            raise exceptions.ValidationError({"file": [_duplicates_message(exc)]}) from exc
        except ConcurrentChange as exc:
            raise Conflict() from exc
        body = {
            "test": test.pk,
            "format": result.format,
            "sweeps": result.sweeps,
            "sweep": result.sweep,
            "points": result.points,
            "created": result.written.created,
            "replaced": result.written.replaced,
        }
        return Response(body, status=status.HTTP_201_CREATED)


def _duplicates_message(exc: DuplicatePoints) -> str:
    if exc.repeated:
        return (
            "The sweep repeats a frequency; each frequency may appear once "
            f"({len(exc.repeated)} rows repeat earlier ones)."
        )
    return (
        f"{len(exc.stored)} of the sweep's rows (z_real or z_imag at a frequency) are already "
        f"stored for this test; send {ON_CONFLICT_PARAM}=replace to replace them."
    )
