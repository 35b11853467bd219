"""EIS data and BMS results (``eis/data/``, ``bms/results/``) and the EIS test report.

These are the big tables, so the views are DRF views (authentication, organization scoping,
filters, pagination, the browsable API) with two shortcuts:

* lists render rows straight from ``values_list`` tuples turned into dicts and orjson
  (``core.lists``), never a serializer per row; a page costs a constant number of queries
  whatever its size, and following ``next`` (a keyset cursor) costs the same at the millionth
  row as at the first;
* writes take a JSON list of up to 10,000 rows (or one object, JSON or form), validate it as a
  whole in one loop (``batterydb.validators``) and write it in one transaction
  (``batterydb.services.ingest``): binary COPY on PostgreSQL (``core.copy``) with
  ``Prefer: return=minimal``.

Duplicate points (a point is ``(test, frequency, parameter)`` or ``(bms_test, timestamp,
parameter)``) are refused with a 400 naming them, unless the client asks for
``?on_conflict=replace`` (or sends ``Prefer: resolution=merge-duplicates``): then the stored
points get the new values, keeping their ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from batterydb.filters import BMSResultFilterSet, EISDataFilterSet
from batterydb.models import BMSResult, BMSTest, EISData, EISTest
from batterydb.renderers import MeasurementJSONRenderer
from batterydb.serializers.measurements import (
    BMS_RESULT_FIELDS,
    EIS_DATA_FIELDS,
    BMSResultSerializer,
    BulkCreatedSerializer,
    EISDataSerializer,
)
from batterydb.services.analysis import eis_analyses_mark_stale
from batterydb.services.ingest import (
    ConcurrentChange,
    DuplicatePoints,
    IngestResult,
    bms_results_ingest,
    eis_data_ingest,
)
from batterydb.validators import (
    BMS_ROW,
    EIS_ROW,
    RowSpec,
    clean_bms_rows,
    clean_eis_rows,
    coerce_form_row,
    item_test_ids,
    resolve_tests,
)
from core.access import AccessControlledViewSetMixin
from core.lists import DictRowsMixin
from core.tenancy import is_staff, organization_roles
from core.viewsets import prefers_minimal

MAX_ROWS_PER_REQUEST = 10_000
MAX_PAGE_SIZE = 10_000
MAX_ERRORS_LISTED = 1000
ON_CONFLICT_PARAM = "on_conflict"
ON_CONFLICT_CHOICES = ("error", "replace")
MERGE_DUPLICATES = "resolution=merge-duplicates"


def body_with_query_options(request, names: tuple[str, ...] = (ON_CONFLICT_PARAM,)) -> dict:
    """The request's form or JSON object as a plain dict (a QueryDict's ``dict()``: copying
    the QueryDict would copy an uploaded file too), with the options among ``names`` that
    came in the query string and not in the body (``?on_conflict=replace``)."""
    if hasattr(request.data, "dict"):
        data = request.data.dict()
    else:
        data = dict(request.data) if isinstance(request.data, dict) else {}
    for name in names:
        if name in request.query_params and name not in data:
            data[name] = request.query_params[name]
    return data


def _prefers(request, preference: str) -> bool:
    header = request.headers.get("Prefer", "")
    return preference in {part.strip().lower().replace(" ", "") for part in header.split(",")}


def _batch_schema(serializer_class, name: str) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[serializer_class, serializer_class(many=True)],
        resource_type_field_name=None,
        many=False,
    )


WRITE_PARAMETERS = [
    OpenApiParameter(
        ON_CONFLICT_PARAM,
        str,
        enum=list(ON_CONFLICT_CHOICES),
        description=(
            "What to do with points already stored: `error` (default: a 400 naming them, "
            "nothing written) or `replace` (they get the new values and keep their ids). "
            "`Prefer: resolution=merge-duplicates` is the same as `replace`."
        ),
    ),
    OpenApiParameter(
        "Prefer",
        str,
        location=OpenApiParameter.HEADER,
        description=(
            '`return=minimal` answers `{"created": n}` instead of the rows (and takes the '
            "fastest write path); `resolution=merge-duplicates` replaces stored points."
        ),
    ),
]


class MeasurementViewSet(DictRowsMixin, AccessControlledViewSetMixin, viewsets.GenericViewSet):
    """List, bulk create, retrieve, update and delete measurement rows of tests.

    Subclasses declare the model, the test model, the row spec, the wire fields (``columns``
    and ``wire_names``, read by ``core.lists``) and the validation and ingestion functions."""

    test_model: type[Model]
    row_spec: RowSpec
    columns: tuple[str, ...]  # values_list columns, in wire order
    wire_names: tuple[str, ...]  # the wire names of those columns
    clean_rows: Callable[[list], tuple[list, dict]]
    ingest: Callable[..., IngestResult]
    tests_changed: Callable[..., object] = staticmethod(lambda *, test_ids: None)  # EIS: stale

    renderer_classes = [MeasurementJSONRenderer, BrowsableAPIRenderer]
    max_page_size = MAX_PAGE_SIZE
    max_body_size = settings.API_MAX_BULK_BODY_SIZE
    bulk_max_items = MAX_ROWS_PER_REQUEST
    ordering = ["id"]

    # --- bulk create ---------------------------------------------------------------------------
    def create(self, request, *args, **kwargs):
        self.check_create_allowed()
        data = request.data
        single = not isinstance(data, list)
        if single:
            items = [self.single_item(data)]
        else:
            items = data
            if not items:
                raise exceptions.ValidationError(
                    {"non_field_errors": ["Expected a non-empty list of rows."]}
                )
            if len(items) > self.bulk_max_items:
                raise exceptions.ValidationError(
                    {
                        "non_field_errors": [
                            f"At most {self.bulk_max_items} rows per request; got {len(items)}. "
                            "Split the upload into several requests."
                        ]
                    }
                )
        replace = self.wants_replace(request)
        returning = not prefers_minimal(request)
        rows, organization_of = self.validated_rows(items, single=single)
        try:
            result = self.ingest(
                rows=rows, organization_of=organization_of, replace=replace, returning=returning
            )
        except DuplicatePoints as exc:
            errors = self.duplicate_point_errors(exc)
            raise exceptions.ValidationError(errors["0"] if single else errors) from exc
        except ConcurrentChange as exc:
            raise Conflict() from exc
        applied = []
        if replace:
            applied.append(MERGE_DUPLICATES)
        if not returning:
            applied.append("return=minimal")
            body = {"created": result.created}
            if replace:
                body["replaced"] = result.replaced
        else:
            names = self.wire_names
            body = [
                dict(zip(names, (pk, organization_of[row[0]], *row), strict=True))
                for pk, row in zip(result.ids, rows, strict=True)
            ]
            if single:
                body = body[0]
        headers = {"Preference-Applied": ", ".join(applied)} if applied else {}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    def single_item(self, data) -> dict:
        if isinstance(data, QueryDict):
            # The browsable API's HTML form posts its CSRF token along with the row.
            data = data.copy()
            data.pop("csrfmiddlewaretoken", None)
            return coerce_form_row(data, spec=self.row_spec)
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Expected an object or a list of objects."]}
            )
        return data

    def wants_replace(self, request) -> bool:
        value = request.query_params.get(ON_CONFLICT_PARAM)
        if value is not None and value not in ON_CONFLICT_CHOICES:
            raise exceptions.ValidationError(
                {ON_CONFLICT_PARAM: [f"Must be one of: {', '.join(ON_CONFLICT_CHOICES)}."]}
            )
        return value == "replace" or _prefers(request, MERGE_DUPLICATES)

    def validated_rows(
        self, items: list, *, single: bool = False
    ) -> tuple[list[tuple], dict[int, int]]:
        """The items as rows ``(test, key, parameter, value)`` with the organization of each
        test, or a 400 with every bad item's errors by index (by field for a ``single``
        object, as every other endpoint answers; 403 for a test the user may only read).
        Points repeated within the batch are left to the write, which finds them only if the
        database refuses the batch."""
        spec = self.row_spec
        rows, errors = self.clean_rows(items)
        access = resolve_tests(
            test_model=self.test_model,
            rows_test_ids=item_test_ids(items, rows, spec=spec),
            test_field=spec.test_field,
            roles=organization_roles(self.request),
            is_staff=is_staff(self.request),
            required_role=self.get_required_role("POST"),
        )
        if access.forbidden:
            raise exceptions.PermissionDenied(
                f"Your role in the organization of {spec.test_field} "
                f"{', '.join(map(str, access.forbidden[:20]))} does not allow writing."
            )
        for index, test_errors in access.errors.items():
            errors.setdefault(index, {}).update(test_errors)
        if errors:
            raise exceptions.ValidationError(errors["0"] if single else _listed(errors))
        return rows, access.organization_of

    def duplicate_point_errors(self, exc: DuplicatePoints) -> dict:
        spec = self.row_spec
        point = f"({spec.test_field}, {spec.key_field}, parameter)"
        errors = {
            str(index): {
                "non_field_errors": [
                    f"Duplicate of item {earlier}: {point} must be unique within a batch."
                ]
            }
            for index, earlier in exc.repeated.items()
        }
        stored = (
            f"This point {point} is already stored. "
            f"Send ?{ON_CONFLICT_PARAM}=replace to replace stored points."
        )
        errors.update({str(index): {"non_field_errors": [stored]} for index in exc.stored})
        summary = None
        if exc.stored:
            summary = f"{len(exc.stored)} rows repeat points already stored."
        return _listed(errors, summary=summary)

    # --- single-row update and delete -------------------------------------------------------------
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        current = {
            name: value.isoformat() if isinstance(value, dt.datetime) else value
            for name, value in self.to_wire(instance).items()
        }
        item = dict(self.single_item(request.data))
        for name in ("id", "organization"):
            if name in item and item[name] == current[name]:
                del item[name]
        if partial:
            item = {**{name: current[name] for name in self.wire_names[2:]}, **item}
        # A PUT replaces the row: a nullable field it leaves out (frequency) becomes null.
        (row,), organization_of = self.validated_rows([item], single=True)
        instance.organization_id = organization_of[row[0]]
        for column, value in zip(self.columns[2:], row, strict=True):
            setattr(instance, column, value)
        try:
            with transaction.atomic():
                instance.save()
                self.tests_changed(test_ids={current[self.wire_names[2]], row[0]})
        except IntegrityError as exc:
            errors = self.duplicate_point_errors(DuplicatePoints(stored=[0]))
            raise exceptions.ValidationError(errors["0"]) from exc
        return Response(self.to_wire(instance))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        with transaction.atomic():
            instance.delete()
            self.tests_changed(test_ids=[getattr(instance, self.columns[2])])
        return Response(status=status.HTTP_204_NO_CONTENT)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The data changed while the batch was written (a test was deleted?). Retry."
    default_code = "conflict"


def _listed(errors: dict[str, dict], summary: str | None = None) -> dict:
    """Errors by item index in index order, at most ``MAX_ERRORS_LISTED`` of them."""
    ordered = dict(sorted(errors.items(), key=lambda item: int(item[0]))[:MAX_ERRORS_LISTED])
    notes = [summary] if summary else []
    if len(errors) > MAX_ERRORS_LISTED:
        notes.append(f"{len(errors)} bad rows; the first {MAX_ERRORS_LISTED} are listed.")
    if notes:
        ordered["non_field_errors"] = notes
    return ordered


def _measurement_schema(serializer_class, name: str, label: str):
    batch = _batch_schema(serializer_class, f"{name}Batch")
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {label}",
            description=(
                "Ordered by id unless `ordering` says otherwise. `limit` up to 10,000; "
                "follow `next` (a keyset cursor) to read everything."
            ),
        ),
        create=extend_schema(
            summary=f"Create {label}, one object or a list of up to 10,000",
            description=(
                "A list is validated as a whole and written in one transaction: all rows or "
                "none. Errors are keyed by the item's index. Unknown fields are refused. "
                "Numbers must be finite JSON numbers (form bodies may send numeric strings)."
            ),
            request={
                "application/json": batch,
                "application/x-www-form-urlencoded": serializer_class,
                "multipart/form-data": serializer_class,
            },
            parameters=WRITE_PARAMETERS,
            responses={
                201: OpenApiResponse(
                    PolymorphicProxySerializer(
                        component_name=f"{name}Created",
                        serializers=[
                            serializer_class,
                            serializer_class(many=True),
                            BulkCreatedSerializer,
                        ],
                        resource_type_field_name=None,
                        many=False,
                    ),
                    description="The created rows, or `{created}` with return=minimal.",
                ),
                400: OpenApiResponse(OpenApiTypes.OBJECT, description="Errors by item index."),
                403: OpenApiResponse(OpenApiTypes.OBJECT, description="Viewer role only."),
                409: OpenApiResponse(
                    OpenApiTypes.OBJECT,
                    description="A test was deleted while the batch was written: nothing was; "
                    "retry.",
                ),
                413: OpenApiResponse(OpenApiTypes.OBJECT, description="Body too large."),
            },
            examples=[
                OpenApiExample(
                    "Two points",
                    value=[
                        {"test": 441, "frequency": 1000.0, "parameter": "z_real", "value": 0.01},
                        {"test": 441, "frequency": None, "parameter": "ocv", "value": 3.7},
                    ],
                    request_only=True,
                )
            ]
            if name == "EISData"
            else [],
        ),
        retrieve=extend_schema(summary=f"Retrieve one of the {label}"),
        update=extend_schema(summary=f"Replace one of the {label}"),
        partial_update=extend_schema(summary=f"Update one of the {label}"),
        destroy=extend_schema(summary=f"Delete one of the {label} (owner role)"),
    )


@_measurement_schema(EISDataSerializer, "EISData", "EIS data points")
class EISDataViewSet(MeasurementViewSet):
    """The collection of all EIS test data: ``{id, organization, test, frequency, parameter,
    value}``, frequency null for OCV and test parameters."""

    queryset = EISData.objects.all()
    serializer_class = EISDataSerializer
    filterset_class = EISDataFilterSet
    ordering_fields = ["id", "test", "frequency", "parameter", "value"]
    test_model = EISTest
    row_spec = EIS_ROW
    columns = ("id", "organization_id", "test_id", "frequency", "parameter", "value")
    wire_names = EIS_DATA_FIELDS
    clean_rows = staticmethod(clean_eis_rows)
    ingest = staticmethod(eis_data_ingest)
    tests_changed = staticmethod(eis_analyses_mark_stale)


@_measurement_schema(BMSResultSerializer, "BMSResult", "BMS results")
class BMSResultViewSet(MeasurementViewSet):
    """The collection of all BMS test results: ``{id, organization, bms_test, timestamp,
    parameter, value}``."""

    queryset = BMSResult.objects.all()
    serializer_class = BMSResultSerializer
    filterset_class = BMSResultFilterSet
    ordering_fields = ["id", "bms_test", "timestamp", "parameter", "value"]
    test_model = BMSTest
    row_spec = BMS_ROW
    columns = ("id", "organization_id", "bms_test_id", "timestamp", "parameter", "value")
    wire_names = BMS_RESULT_FIELDS
    clean_rows = staticmethod(clean_bms_rows)
    ingest = staticmethod(bms_results_ingest)
