"""Shapes of EIS data points, BMS results and the EIS test report on the wire.

These serializers describe the endpoints (OpenAPI schema, browsable API forms). The bulk
write path and the lists do not instantiate them per row: rows are validated by
``batterydb.validators`` and rendered from ``values_list`` tuples, with the same fields.
"""

from __future__ import annotations

from rest_framework import serializers

from batterydb.models import BMSResult, EISData
from batterydb.services.report import REPORT_FREQUENCIES
from core.tenancy import OrganizationScopedSerializerMixin

EIS_DATA_FIELDS = ("id", "organization", "test", "frequency", "parameter", "value")
BMS_RESULT_FIELDS = ("id", "organization", "bms_test", "timestamp", "parameter", "value")


class EISDataSerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """One EIS data point. ``organization`` is the test's, read-only."""

    frequency = serializers.FloatField(
        allow_null=True,
        required=False,
        help_text="Hz, positive; null (or absent) for OCV and test parameters.",
    )
    value = serializers.FloatField(help_text="A finite number.")

    class Meta:
        model = EISData
        fields = list(EIS_DATA_FIELDS)
        read_only_fields = ["id", "organization"]
        validators: list = []  # uniqueness is the write path's (see batterydb.validators)


class BMSResultSerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """One BMS result. ``organization`` is the BMS test's, read-only."""

    timestamp = serializers.DateTimeField(
        help_text="ISO 8601 with a UTC offset or Z; naive timestamps are refused."
    )
    value = serializers.FloatField(help_text="A finite number.")

    class Meta:
        model = BMSResult
        fields = list(BMS_RESULT_FIELDS)
        read_only_fields = ["id", "organization"]
        validators: list = []


class BulkCreatedSerializer(serializers.Serializer):
    """The answer to a write with ``Prefer: return=minimal``."""

    created = serializers.IntegerField(help_text="Rows inserted.")
    replaced = serializers.IntegerField(
        required=False, help_text="Stored points given new values (with on_conflict=replace)."
    )


def _report_row_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {
        "battery_id": serializers.CharField(
            allow_null=True, help_text="The battery's battery_id; null if the test has none."
        )
    }
    for part in ("real", "imag"):
        for index in range(REPORT_FREQUENCIES):
            fields[f"z_{part}_{index}"] = serializers.FloatField(
                allow_null=True,
                help_text=f"z_{part} at the test's frequency number {index} (storage order).",
            )
    return fields


EISTestReportRowSerializer = type(
    "EISTestReportRowSerializer",
    (serializers.Serializer,),
    {
        **_report_row_fields(),
        "__doc__": (
            "One report row per requested test: the battery_id, then z_real and z_imag at "
            "each frequency in the order the points were stored. Columns beyond 41 appear "
            "when a test has more than 42 frequencies."
        ),
    },
)
