"""VoltStorage in the OpenAPI document: its error shape and the schema class of its views."""

from __future__ import annotations

from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from core.openapi import PlatformAutoSchema

ERRORS_COMPONENT = "VoltStorageErrors"
ERRORS_SCHEMA = {
    "type": "object",
    "description": 'Every error of the VoltStorage API: `{"errors": ["<message>", ...]}`; a '
    "message about a parameter or a body field starts with its name.",
    "properties": {"errors": {"type": "array", "items": {"type": "string"}}},
    "required": ["errors"],
}


PAGE_PARAMETERS = [
    OpenApiParameter(
        "count",
        {"type": "integer", "minimum": 1},
        description="Items per page: 1000 by default and at most (more gives 1000).",
    ),
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1}, description="The page (the first is 1)."
    ),
]

TOKEN_PARAMETER = OpenApiParameter(
    "token",
    OpenApiTypes.STR,
    description="The JWT of `/voltstorage/rest/login/password`, instead of the "
    "`Authorization` header.",
)


class VoltStorageAutoSchema(PlatformAutoSchema):
    """The platform's schema class with VoltStorage's error shape for every error answer,
    and the ``token`` query parameter on every authenticated operation."""

    def error_schema(self, name: str) -> dict:
        component = ResolvedComponent(
            name=ERRORS_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            schema=ERRORS_SCHEMA,
            object=ERRORS_COMPONENT,
        )
        self.registry.register_on_missing(component)
        return component.ref

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "authentication_classes", None):
            parameters.append(TOKEN_PARAMETER)
        return parameters
