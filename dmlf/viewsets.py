"""What every DMLF resource shares: complete bare-array lists (streamed in batches beyond
one), details and write answers in one shape (``dmlf.wire``), file downloads through the access
check, exact-match filters only when asked for, and the per-method throttles."""

from __future__ import annotations

import itertools

import orjson
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.files import AnyAcceptContentNegotiation, file_download_response
from core.prepared import PreparedQuery
from core.streaming import streaming_response
from dmlf.throttles import DMLFMethodRateThrottle
from dmlf.wire import WireShape

#: Rows read from the database at a time while a list is streamed.
LIST_BATCH = 2000

LIST_PARAMETERS = [
    OpenApiParameter(
        "limit", int, description="At most this many objects (all of them when left out)."
    ),
    OpenApiParameter("offset", int, description="Skip this many objects first."),
]
DOWNLOAD_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The file, as an attachment."
    ),
    404: OpenApiResponse(description="No such object (or not yours), or it has no such file."),
}


#: Query parameters that are not filters.
LIST_CONTROLS = {"limit", "offset", "format"}
MAX_WINDOW = 2**62


def list_window(query_params) -> tuple[int, int | None]:
    """The optional ``offset`` and ``limit`` of a list: non-negative integers, else a 400
    naming the parameter."""
    values: dict[str, int | None] = {"offset": 0, "limit": None}
    for name in values:
        raw = query_params.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if not 0 <= value <= MAX_WINDOW:
            raise serializers.ValidationError(
                {name: [f"Must be an integer from 0 to {MAX_WINDOW}."]}
            )
        values[name] = value
    return values["offset"], values["limit"]


def json_array(items) -> bytes:
    """The items (JSON-ready dicts) as the chunks of one JSON array."""
    yield b"["
    first = True
    for item in items:
        if first:
            first = False
            yield orjson.dumps(item)
        else:
            yield b"," + orjson.dumps(item)
    yield b"]"


class DMLFViewSetMixin:
    """What every DMLF resource shares: bare-array lists streamed in bounded memory, details
    and write answers in the same shape (``wire``), file downloads, exact-match filters, the
    per-method throttles and no pagination."""

    wire: WireShape
    filter_backends = [DjangoFilterBackend]
    pagination_class = None
    throttle_classes = [DMLFMethodRateThrottle]
    #: Whether every reader gets the same list (a catalogue): its first batch is then read by
    #: a query compiled once (``core.prepared``) when the list is asked for whole.
    shared_list = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._first_batch = PreparedQuery(
            lambda: cls.queryset.order_by("pk").values_list(*cls.wire.columns)[:LIST_BATCH]
        )

    def wire_of(self, obj) -> dict:
        return self.wire.writer(self.request)(self.wire.row_of(obj))

    def filter_queryset(self, queryset):
        # Building a FilterSet's form costs a third of a small list: only when filtering.
        if set(self.request.query_params) <= LIST_CONTROLS:
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        offset, limit = list_window(request.query_params)
        whole = not offset and limit is None and set(request.query_params) <= LIST_CONTROLS
        if self.shared_list and whole:
            first = self._first_batch.rows()
            if len(first) < LIST_BATCH:
                write = self.wire.writer(request)
                return Response([write(row) for row in first])
        queryset = self.filter_queryset(self.get_queryset()).order_by("pk")
        if limit is not None:
            queryset = queryset[offset : offset + limit]
        elif offset:
            queryset = queryset[offset:]
        rows = queryset.values_list(*self.wire.columns).iterator(chunk_size=LIST_BATCH)
        write = self.wire.writer(request)
        first = list(itertools.islice(rows, LIST_BATCH))
        if len(first) < LIST_BATCH:
            # The whole list is in hand: an ordinary answer, with its length (a client may
            # keep the connection) and the browsable API.
            rows.close()
            return Response([write(row) for row in first])
        return streaming_response(
            request,
            json_array(map(write, itertools.chain(first, rows))),
            content_type="application/json",
        )

    def retrieve(self, request, *args, **kwargs):
        return Response(self.wire_of(self.get_object()))

    def download(self, request, field_name: str):
        """The record's file ``field_name``, named ``<pk>.<json|zip>``."""
        obj = self.get_object()
        field_file = getattr(obj, field_name)
        extension = ".json" if field_name == "sample_info" else ".zip"
        return file_download_response(request, field_file, filename=f"{obj.pk}{extension}")


def list_schema(serializer, summary: str):
    return extend_schema(
        summary=summary, parameters=LIST_PARAMETERS, responses=serializer(many=True)
    )


def download_action(field_name: str, summary: str):
    """A detail route ``<field_name>/`` serving the record's file (see ``download``)."""

    def view(self, request, *args, **kwargs):
        return self.download(request, field_name)

    view.__name__ = field_name
    view.__doc__ = summary
    return extend_schema(summary=summary, responses=DOWNLOAD_RESPONSES)(
        action(
            detail=True,
            methods=["get"],
            url_path=field_name,
            url_name=field_name.replace("_", "-"),
            content_negotiation_class=AnyAcceptContentNegotiation,
            filter_backends=[],
        )(view)
    )
