"""A product's data: the latest values, statistics, the export and device ingestion."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.streaming import streaming_response
from voltstorage import catalogue, exporters, statistics
from voltstorage.filters import boolean_param, integer_param
from voltstorage.models import Component
from voltstorage.services import latest_message, product_data_ingest
from voltstorage.validators import check_samples
from voltstorage.views.common import (
    PRODUCT_ID,
    PRODUCT_ID_QUERY,
    VoltStorageViewMixin,
    product_for,
    product_id_of,
    series_of,
    writable_product,
)

INCLUDE_TIME = OpenApiParameter(
    "includeTime",
    bool,
    description='`true`: `{"time", "data"}` with the time of the newest value; otherwise '
    "the field values directly.",
)


class LatestDataView(VoltStorageViewMixin, APIView):
    @extend_schema(
        tags=["voltstorage"],
        summary="Returns the latest value of all data fields of a product",
        description="The newest value of each field of the product's own series (its "
        "components' are not included).",
        parameters=[INCLUDE_TIME],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, **kwargs):
        product = product_for(request, product_id_of(request, kwargs))
        include_time = boolean_param(request.query_params, "includeTime", default=False)
        series = series_of(product.pk)
        message = latest_message(series.latest if series else {})
        return Response(message if include_time else message["data"])


@extend_schema(parameters=[PRODUCT_ID_QUERY])
class LatestDataQueryView(LatestDataView):
    """``data/latest?productId=``: the same as under the product."""


def _timestamp_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise exceptions.ValidationError(
            {name: [f"Must be a number of seconds since 1970-01-01T00:00:00Z; got {raw[:40]!r}."]}
        ) from None
    if not math.isfinite(value) or not 0 <= value <= 253_402_300_799:
        raise exceptions.ValidationError(
            {name: ["Must be a time from 1970-01-01 to 9999-12-31 in seconds since the epoch."]}
        )
    return round(value * 1000)


# One class, one instance per key (a serializer field is bound to one parent).
_Averaged = type(
    inline_serializer(
        "VoltStorageAveraged",
        {
            "nSamples": serializers.IntegerField(),
            "value": serializers.FloatField(allow_null=True),
        },
    )
)


STATISTICS = inline_serializer(
    "VoltStorageStatistic",
    {
        "timespan_start": serializers.IntegerField(help_text="Start of the bucket, unix s."),
        "pv-total": serializers.IntegerField(help_text="Ws"),
        "pv-activity": serializers.FloatField(allow_null=True),
        "consumption-total": serializers.IntegerField(help_text="Ws"),
        "storage-total-released": serializers.IntegerField(help_text="Ws"),
        "storage-total-stored": serializers.IntegerField(help_text="Ws"),
        "max-temperature": serializers.FloatField(allow_null=True, help_text="°C"),
        **{
            key: _Averaged()
            for key in (
                "own-consumption",
                "electrolyte-temp",
                "pump-temp",
                "dc-capacity",
                "ac-capacity",
                "dc-efficiency",
                "ac-efficiency",
            )
        },
        "self-sufficiency": inline_serializer(
            "VoltStorageWeighted",
            {
                "totalWeight": serializers.IntegerField(),
                "value": serializers.FloatField(allow_null=True),
            },
        ),
    },
    many=True,
)


class StatisticsView(VoltStorageViewMixin, APIView):
    @extend_schema(
        tags=["voltstorage"],
        summary="Provides aggregated statistical data for a product",
        description=statistics.__doc__,
        responses={
            200: OpenApiResponse(
                STATISTICS,
                description="One object per bucket with samples, in time order: "
                "`timespan_start` (unix seconds) and the keys of the table above.",
            )
        },
        parameters=[
            OpenApiParameter("tstart", int, description="Start of the range (unix seconds)."),
            OpenApiParameter(
                "tend",
                int,
                description="End of the range (unix seconds, excluded; now by default).",
            ),
            OpenApiParameter(
                "timespan",
                str,
                enum=list(statistics.TIMESPANS),
                description="The span of each bucket (default `day`).",
            ),
        ],
    )
    def get(self, request, **kwargs):
        product = product_for(request, product_id_of(request, kwargs))
        params = request.query_params
        timespan = params.get("timespan") or "day"
        if timespan not in statistics.TIMESPANS:
            raise exceptions.ValidationError(
                {"timespan": [f"Must be one of {', '.join(statistics.TIMESPANS)}."]}
            )
        end = _timestamp_param(params, "tend")
        start = _timestamp_param(params, "tstart")
        series = series_of(product.pk)
        if end is None:
            end = round(time.time() * 1000)
        if start is None:
            if timespan == "lifetime":
                first = series.first_time if series and series.first_time else None
                start = round(first.timestamp() * 1000) if first else end - 1
            else:
                start = end - statistics.DEFAULT_RANGE_MS[timespan]
        if start >= end:
            raise exceptions.ValidationError({"tstart": ["Must be before tend."]})
        if timespan in statistics.DEFAULT_RANGE_MS:
            longest = {
                "hour": 3_600_000,
                "day": 82_800_000,
                "month": 28 * 86_400_000,
                "year": 365 * 86_400_000,
            }[timespan]
            if (end - start) // longest > statistics.MAX_BUCKETS:
                raise exceptions.ValidationError(
                    {
                        "tstart": [
                            f"At most {statistics.MAX_BUCKETS} buckets per request: narrow "
                            "tstart and tend, or choose a longer timespan."
                        ]
                    }
                )
        body = statistics.product_statistics(
            series_id=series.pk if series else None,
            request=statistics.StatisticsRequest(timespan, start, end, product.timezone),
        )
        # Already JSON: a year of hourly buckets is some 9,000 objects.
        return HttpResponse(body, content_type="application/json")


@extend_schema(parameters=[PRODUCT_ID_QUERY])
class StatisticsQueryView(StatisticsView):
    """``data/statistics?productId=``: the same as under the product."""


EXPORT_PARAMETERS = [
    OpenApiParameter("productId", int, description="The product (or give componentId)."),
    OpenApiParameter("componentId", int, description="A component (or give productId)."),
    OpenApiParameter("from", float, required=True, description="First time (unix seconds)."),
    OpenApiParameter("to", float, description="Last time (unix seconds; default now)."),
    OpenApiParameter("fields", str, description="Comma-separated wire names; all by default."),
    OpenApiParameter("tz", int, description="UTC offset of the times in minutes (default 0)."),
    OpenApiParameter(
        "precision", int, description="Significant digits of the values (1 to 17, default 6)."
    ),
    OpenApiParameter(
        "tolerance",
        float,
        description="Ramer-Douglas-Peucker simplification: the deviation allowed per field, "
        "relative to its range over the period (0, the default, keeps every sample).",
    ),
    OpenApiParameter(
        "maxPoints",
        int,
        description=f"At most this many rows (2 to {10_000}), chosen per field by "
        "Largest-Triangle-Three-Buckets; for charts.",
    ),
    OpenApiParameter(
        "separator", str, description="CSV only: the separator of every line (default `,`)."
    ),
]
MAX_POINTS = 10_000
SEPARATOR_FORBIDDEN = set("\"'\r\n.+-=@0123456789eE")


class ExportView(VoltStorageViewMixin, APIView):
    """``data/export.csv`` and ``data/export.json``, streamed (``voltstorage.exporters``)."""

    export_format = "csv"

    @extend_schema(
        tags=["voltstorage"],
        summary="Export product data as CSV or JSON",
        description=exporters.__doc__ + "\n\nFields:\n\n" + catalogue.markdown_table(),
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV."),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The rows as JSON objects."
            ),
            404: OpenApiResponse(
                description="No such product or component, or one you may not see."
            ),
        },
    )
    def get(self, request, **kwargs):
        export = self.export_request(request)
        chunks = exporters.export_chunks(export, self.export_format)
        if self.export_format == "csv":
            return streaming_response(
                request,
                chunks,
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="export.csv"'},
            )
        return streaming_response(request, chunks, content_type="application/json")

    def export_request(self, request) -> exporters.ExportRequest:
        params = request.query_params
        product_id = integer_param(params, "productId")
        component_id = integer_param(params, "componentId")
        if (product_id is None) == (component_id is None):
            raise exceptions.ValidationError(
                {"productId": ["Give productId or componentId (one of them)."]}
            )
        if component_id is not None:
            component = Component.objects.filter(pk=component_id).first()
            if component is None:
                raise exceptions.NotFound(f"No component {component_id}.")
            try:
                product_for(request, component.product_id)
            except exceptions.NotFound:
                raise exceptions.NotFound(f"No component {component_id}.") from None
            series = series_of(component.product_id, component_id)
        else:
            product = product_for(request, product_id)
            series = series_of(product.pk)
        start = _timestamp_param(params, "from")
        if start is None:
            raise exceptions.ValidationError({"from": ["Required: the first time, unix seconds."]})
        end = _timestamp_param(params, "to")
        if end is None:
            end = round(time.time() * 1000)
        if end < start:
            raise exceptions.ValidationError({"to": ["Must not be before from."]})
        names = params.get("fields")
        if names:
            fields = []
            for name in (part.strip() for part in names.split(",")):
                if not name:
                    continue
                spec = catalogue.BY_NAME.get(name)
                if spec is None:
                    raise exceptions.ValidationError(
                        {"fields": [f"Unknown field {name[:60]!r}; see /voltstorage/rest/fields."]}
                    )
                if spec not in fields:
                    fields.append(spec)
        else:
            fields = list(catalogue.FIELDS)
        tz = integer_param(params, "tz", minimum=-959, default=0)
        if tz > 959:
            raise exceptions.ValidationError({"tz": ["Must be from -959 to 959 minutes."]})
        precision = integer_param(params, "precision", minimum=1, default=6)
        if precision > 17:
            raise exceptions.ValidationError({"precision": ["Must be from 1 to 17."]})
        tolerance = _float_param(params, "tolerance")
        max_points = integer_param(params, "maxPoints", minimum=2)
        if max_points is not None:
            if max_points > MAX_POINTS:
                raise exceptions.ValidationError(
                    {"maxPoints": [f"Must be from 2 to {MAX_POINTS}."]}
                )
            if tolerance:
                raise exceptions.ValidationError(
                    {"maxPoints": ["Give maxPoints or tolerance, not both."]}
                )
            if max_points < len(fields):
                raise exceptions.ValidationError(
                    {"maxPoints": [f"Must be at least the number of fields ({len(fields)})."]}
                )
        separator = params.get("separator", ",")
        if self.export_format == "csv" and (
            not 1 <= len(separator) <= 4
            or SEPARATOR_FORBIDDEN & set(separator)
            or separator.isalnum()
        ):
            raise exceptions.ValidationError(
                {
                    "separator": [
                        "Must be 1 to 4 characters, none of them a letter, digit, quote, "
                        "line break, dot, sign or @ (such as , ; | or a tab)."
                    ]
                }
            )
        return exporters.ExportRequest(
            series_id=series.pk if series else None,
            fields=fields,
            start_ms=start,
            end_ms=end,
            tz_minutes=tz,
            precision=precision,
            tolerance=tolerance,
            max_points=max_points,
            separator=separator,
        )


def _float_param(params, name: str) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [f"Must be a number; got {raw[:40]!r}."]}) from None
    if not math.isfinite(value) or value < 0:
        raise exceptions.ValidationError({name: ["Must be a number of at least 0."]})
    return value


class IngestView(VoltStorageViewMixin, APIView):
    """Device ingestion: one sample or a list of them, all or nothing."""

    max_body_size = settings.API_MAX_BULK_BODY_SIZE

    @extend_schema(
        tags=["voltstorage"],
        summary="Store a product's data (device ingestion)",
        description=(
            'One sample `{"time": <unix s, a fraction for milliseconds>, "data": {field: '
            'value}, "componentId"?: n, "errors"?: [codes]}` or a list of them, stored all '
            "or nothing. A sample for a time already stored merges field by field (the new "
            "value wins, fields not sent keep theirs); resending never duplicates. `errors`, "
            "when sent, replaces the product's current error codes. Values must be finite "
            "numbers of known fields; times at most `VOLTSTORAGE_FUTURE_SECONDS` ahead of the "
            "server's clock. Subscribers of the product's stream receive its new latest data. "
            "Needs the member role in the product's organization.\n\nFields:\n\n"
            + catalogue.markdown_table()
        ),
        parameters=[PRODUCT_ID],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: inline_serializer(
                "VoltStorageIngested",
                {
                    "samples": serializers.IntegerField(help_text="Samples received."),
                },
            ),
            403: OpenApiResponse(description="Not a member (or owner) of the organization."),
        },
    )
    def post(self, request, product_id: int):
        product = writable_product(request, int(product_id))
        now = round(time.time() * 1000)
        retention = settings.VOLTSTORAGE_RAW_RETENTION_DAYS
        earliest = (now - retention * 86_400_000) if retention else 0
        body = request.data
        names_components = isinstance(body, list) and any(
            type(sample) is dict and "componentId" in sample for sample in body
        )
        if isinstance(body, dict) and "componentId" in body:
            names_components = True
        checked, problems = check_samples(
            body,
            component_ids=(
                set(product.components.values_list("id", flat=True)) if names_components else None
            ),
            earliest_ms=max(earliest, 0),
            latest_ms=now + settings.VOLTSTORAGE_FUTURE_SECONDS * 1000,
            max_samples=settings.VOLTSTORAGE_MAX_SAMPLES,
        )
        if checked is None:
            raise exceptions.ValidationError(problems)
        result = product_data_ingest(product=product, checked=checked)
        return Response({"samples": result.samples}, status=status.HTTP_201_CREATED)
