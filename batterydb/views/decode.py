"""``/api/v2/bms/files/{id}/decode/``: decoding a BMS file's CAN log into BMS results.

``POST`` starts the decoding as a background job (``batterydb.services.decode``) and answers
202 with the job's state; ``GET`` answers the latest decoding's state and, once it
succeeded, its summary. Starting needs the Member role in the file's organization; other
organizations' files answer 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from batterydb.models import BMSFile
from batterydb.services.decode import (
    DecodeBusy,
    DecodeRefused,
    bms_file_decode_dbc,
    bms_file_decode_job_latest,
    bms_file_decode_start,
)
from batterydb.validators import MAX_BIGINT
from batterydb.views.measurements import (
    ON_CONFLICT_CHOICES,
    ON_CONFLICT_PARAM,
    body_with_query_options,
)
from core.access import AccessControlledViewSetMixin
from core.jobs.api import JobStateSerializer


class BMSDecodeSerializer(serializers.Serializer):
    dbc = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_BIGINT,
        help_text="The DBC file to decode with (same organization); default the BMS test's "
        "`default_dbc`.",
    )
    on_conflict = serializers.ChoiceField(
        choices=ON_CONFLICT_CHOICES,
        default="error",
        help_text="`replace`: the log's values replace the points other sources stored for "
        "its parameters within its time span; `error` (default): such an overlap fails the "
        "job, naming it. Also accepted as a query parameter.",
    )


class DecodeSummarySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["candump", "asc", "blf", "trc", "mf4"])
    dbc = serializers.IntegerField(help_text="The DBC file used.")
    frames = serializers.IntegerField(help_text="Data frames read.")
    decoded_frames = serializers.IntegerField(help_text="Frames whose id the DBC defines.")
    messages = serializers.IntegerField(help_text="Distinct messages decoded.")
    signals = serializers.IntegerField(help_text="Distinct parameters (message.signal) stored.")
    rows = serializers.IntegerField(help_text="BMS results stored.")
    replaced_rows = serializers.IntegerField(
        help_text="Points of other sources replaced (on_conflict=replace)."
    )
    skipped_values = serializers.IntegerField(
        help_text="Values not stored: not finite, or of frames cantools could not decode."
    )
    start = serializers.DateTimeField(help_text="The first stored point's time.")
    end = serializers.DateTimeField(help_text="The last stored point's time.")
    unknown_frames = serializers.IntegerField(help_text="Frames whose id the DBC lacks.")
    unknown_frame_ids = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Frames per unknown id (hexadecimal), the 100 most frequent.",
    )


class DecodeJobSerializer(JobStateSerializer):
    """The decoding job's state; its result is the summary."""

    result = DecodeSummarySerializer(allow_null=True, help_text="The summary, once succeeded.")


_JOB_EXAMPLE = {
    "id": 7,
    "kind": "batterydb.bms_decode",
    "status": "succeeded",
    "progress": 1.0,
    "error": "",
    "result": {
        "format": "candump",
        "dbc": 3,
        "frames": 120000,
        "decoded_frames": 119800,
        "messages": 12,
        "signals": 57,
        "rows": 598000,
        "replaced_rows": 0,
        "skipped_values": 0,
        "start": "2024-05-01T12:00:00+00:00",
        "end": "2024-05-01T12:20:00+00:00",
        "unknown_frames": 200,
        "unknown_frame_ids": {"0x7E8": 200},
    },
    "attempts": 1,
    "created_at": "2024-05-02T08:00:00Z",
    "started_at": "2024-05-02T08:00:01Z",
    "finished_at": "2024-05-02T08:00:30Z",
}


class BMSFileDecodeView(AccessControlledViewSetMixin, generics.GenericAPIView):
    """Decode a BMS file's CAN log with a DBC file into BMS results."""

    queryset = BMSFile.objects.select_related("bms_test")
    serializer_class = BMSDecodeSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="bms_files_decode_create",
        summary="Decode the file's CAN log into BMS results (Member role)",
        description=(
            "Starts a background job that decodes the file (candump `.log`, Vector `.asc` or "
            "`.blf`, PCAN `.trc`, ASAM MDF 4 `.mf4`) with the DBC file into BMS results of the "
            "file's BMS test: "
            "`parameter` = `<message>.<signal>`, choice signals as their numbers, the file "
            "as their source. All frames or none. Decoding again replaces the rows this file "
            "gave before; deleting the file deletes them. Answers 202 with the job; `GET` on "
            "the same URL follows it. 400 when the file has no BMS test, or no DBC file is "
            "given and the test has no `default_dbc`; 409 while a decoding of the file is "
            "queued or running."
        ),
        request=BMSDecodeSerializer,
        parameters=[
            OpenApiParameter(
                ON_CONFLICT_PARAM,
                str,
                enum=list(ON_CONFLICT_CHOICES),
                description="As `on_conflict` in the body (the body wins).",
            )
        ],
        responses={
            202: OpenApiResponse(DecodeJobSerializer, description="The job, queued."),
            409: OpenApiResponse(description="A decoding of this file is queued or running."),
        },
    )
    def post(self, request, *args, **kwargs):
        bms_file = self.get_object()  # 404 outside the user's organizations, 403 for a viewer
        serializer = self.get_serializer(data=body_with_query_options(request))
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        if bms_file.bms_test_id is None:
            raise exceptions.ValidationError(
                {"bms_test": ["The BMS file belongs to no BMS test; set its bms_test first."]}
            )
        try:
            dbc = bms_file_decode_dbc(bms_file=bms_file, dbc_id=options.get("dbc"))
        except DecodeRefused as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        try:
            job = bms_file_decode_start(
                bms_file=bms_file,
                dbc=dbc,
                replace=options["on_conflict"] == "replace",
                user=request.user,
            )
        except DecodeBusy as exc:
            raise Busy(str(exc)) from exc
        return Response(DecodeJobSerializer(job.as_dict()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="bms_files_decode_retrieve",
        summary="The latest decoding of the file: its state and, once done, its summary",
        responses={
            200: OpenApiResponse(
                DecodeJobSerializer,
                description="The job.",
                examples=[OpenApiExample("Decoded", value=_JOB_EXAMPLE)],
            ),
            404: OpenApiResponse(description="No such file, or it was never decoded."),
        },
    )
    def get(self, request, *args, **kwargs):
        bms_file = self.get_object()
        job = bms_file_decode_job_latest(bms_file=bms_file)
        if job is None:
            raise exceptions.NotFound("This file has not been decoded.")
        return Response(DecodeJobSerializer(job.as_dict()).data)


class Busy(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A decoding of this file is queued or running."
    default_code = "busy"
