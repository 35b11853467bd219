"""Renderers of the BatteryDB measurement endpoints: orjson for JSON. CSV (the report's
``?format=csv``) is the platform's :class:`core.renderers.CSVRenderer`."""

from __future__ import annotations

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer


class MeasurementJSONRenderer(ORJSONRenderer):
    """orjson, with UTC datetimes ending in ``Z`` as DRF's own fields write them."""

    options = orjson.OPT_UTC_Z
