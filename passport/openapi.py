"""The passport API in the OpenAPI document: its components (``Passport...``, from the same
definitions that validate bodies) and the schema class of its views.

The views answer documents built by hand rather than by serializers, so every operation
declares its request and answers with :func:`ref` to these components (``extend_schema`` in
``passport.views``); :class:`PassportAutoSchema` registers the components and documents the id
in the path with its pattern.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter

from core.openapi import PlatformAutoSchema
from passport import catenax
from passport.definitions import ID_FIELD, ID_MAX_LENGTH, ID_REGEX
from passport.schema import component_name, openapi_components

ANY_VALUE = {"nullable": True, "description": "Any JSON value; null when there was none."}

EXTRA_COMPONENTS: dict[str, dict] = {
    "Envelope": {
        "type": "object",
        "description": "One or more passports, each trimmed to what the reader may see.",
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/PassportBatteryPass"}}
        },
        "required": ["data"],
    },
    "Change": {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": "JSON path into the passport (`hasCellChemistryProperties."
                "cathodeActiveMaterials[2].materialWeight`).",
            },
            "old": ANY_VALUE,
            "new": ANY_VALUE,
        },
        "required": ["path", "old", "new"],
    },
    "Version": {
        "type": "object",
        "properties": {
            "version": {"type": "integer", "description": "1 as created, +1 per change."},
            "at": {"type": "string", "format": "date-time"},
            "by": {
                "type": "string",
                "nullable": True,
                "description": "The username of the author; null when unknown.",
            },
            "changes": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/PassportChange"},
                "description": "What changed, limited to what the reader may see.",
            },
        },
        "required": ["version", "at", "by", "changes"],
    },
    "History": {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/PassportVersion"}}
        },
        "required": ["data"],
    },
    "PointCompleteness": {
        "type": "object",
        "properties": {
            "required": {"type": "integer"},
            "present": {"type": "integer"},
            "percentage": {"type": "number"},
            "missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Paths of the required fields missing or empty.",
            },
        },
        "required": ["required", "present", "percentage", "missing"],
    },
    "Completeness": {
        "type": "object",
        "properties": {
            ID_FIELD: {"type": "string"},
            "batteryCategory": {"type": "string", "nullable": True},
            "category": {
                "type": "string",
                "nullable": True,
                "enum": [
                    "LMT battery",
                    "electric vehicle battery",
                    "industrial battery",
                    "stationary battery energy storage system",
                    None,
                ],
                "description": "The regulation's category recognised; null when unknown.",
            },
            "status": {"type": "string", "enum": ["complete", "incomplete", "category unknown"]},
            "complete": {"type": "boolean"},
            "percentage": {
                "type": "number",
                "nullable": True,
                "description": "Share of the required fields present, over every point.",
            },
            "points": {
                "type": "object",
                "description": 'By point of Annex XIII (`"1"` to `"4"`), the points the '
                "reader sees only.",
                "additionalProperties": {"$ref": "#/components/schemas/PassportPointCompleteness"},
            },
        },
        "required": [ID_FIELD, "batteryCategory", "category", "status", "complete", "points"],
    },
}


CATENAX_PREFIX = component_name("CatenaX")


def _catenax_openapi(value: Any) -> Any:
    """A part of the Catena-X schema in OpenAPI form: references to ``PassportCatenaX...``,
    without ``required`` and the model's URNs."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "$ref":
                result[key] = f"#/components/schemas/{CATENAX_PREFIX}{item.rsplit('/', 1)[-1]}"
            elif key not in {"required", "x-samm-aspect-model-urn", "$schema", "components"}:
                result[key] = _catenax_openapi(item)
        return result
    if isinstance(value, list):
        return [_catenax_openapi(item) for item in value]
    return value


def catenax_components() -> dict[str, dict]:
    """The Catena-X battery pass 3.0.1 (``passport.catenax``) as OpenAPI components
    ``PassportCatenaX...``, its root ``PassportCatenaXBatteryPass``. ``required`` is left out:
    an export is trimmed to its reader, and only a reader who sees every point gets every
    value the model requires."""
    published = catenax.schema()
    found = {
        f"{CATENAX_PREFIX}{name}": _catenax_openapi(part)
        for name, part in published["components"]["schemas"].items()
    }
    root = _catenax_openapi(published)
    root["description"] = (
        f"Catena-X battery pass 3.0.1 (`{catenax.MODEL}`). Complete, as the model requires "
        "it, for a reader who sees every class (the organization's members and staff); "
        "trimmed to the reader's classes otherwise, so `required` is not declared here."
    )
    found[f"{CATENAX_PREFIX}BatteryPass"] = root
    return found


@functools.cache
def components() -> dict[str, dict]:
    return {
        **openapi_components(),
        **{component_name(name): schema for name, schema in EXTRA_COMPONENTS.items()},
        **catenax_components(),
    }


def ref(name: str) -> dict:
    """A reference to the component ``Passport<name>``."""
    full = component_name(name)
    assert full in components(), full
    return {"$ref": f"#/components/schemas/{full}"}


def body(name: str, *, required: list[str] | None = None) -> dict:
    """A JSON request body of the component ``Passport<name>``, with ``required`` keys."""
    schema = {"allOf": [ref(name)], "required": required} if required else ref(name)
    return {"application/json": schema}


ID_PARAMETER = OpenApiParameter(
    ID_FIELD,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": ID_MAX_LENGTH,
        "pattern": f"^{ID_REGEX}$",
        # URLs resolve these two as path segments: no passport can have them as its id.
        "not": {"enum": [".", ".."]},
    },
    OpenApiParameter.PATH,
    description=f"The passport's batteryIDDMCCode (1 to {ID_MAX_LENGTH} characters of "
    "`A-Z a-z 0-9 . _ ~ : -`).",
)

PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1},
        description="Items per page: 100 by default, at most 1000 (more gives 1000).",
    ),
    OpenApiParameter(
        "offset", {"type": "integer", "minimum": 0}, description="Items to skip (default 0)."
    ),
]


class PassportAutoSchema(PlatformAutoSchema):
    """The platform's schema class, with the passport components registered, no list
    wrapping of declared answers (each declares its own envelope) and the id in the path
    documented with its pattern."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        for name, schema in components().items():
            # A copy: drf-spectacular's postprocessing rewrites the schemas it is given in place
            # (enums become references), and the next document would refer to components the
            # cached originals no longer produce.
            registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    schema=copy.deepcopy(schema),
                    object=name,
                )
            )
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        unprocessable = (operation or {}).get("responses", {}).get("422")
        if unprocessable is not None:
            # Problems by path, like a 400's (the platform's shape for refused input).
            schema = self.error_schema("ValidationErrors")
            unprocessable["content"] = {"application/json": {"schema": schema}}
        return operation

    def _is_list_view(self, serializer=None) -> bool:
        return False

    def get_operation_id(self) -> str:
        """``passport_batteryPass_list`` for the lists (the view's action says which they
        are), as drf-spectacular names lists."""
        operation_id = super().get_operation_id()
        if self.method == "GET" and getattr(self.view, "action", None) == "list":
            operation_id = operation_id.rsplit("_", 1)[0] + "_list"
        return operation_id

    def get_auth(self):
        """Public reads need no credential (a credential that fails is still a 401)."""
        auth = super().get_auth()
        access = getattr(self.view, "access", None)
        if self.method == "GET" and access is not None and access.public and {} not in auth:
            auth.append({})
        return auth

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if "{" + ID_FIELD + "}" in self.path:
            parameters.insert(0, ID_PARAMETER)
        return parameters
