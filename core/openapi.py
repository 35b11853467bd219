"""OpenAPI: tags by API, the error answers of every operation, and the credential schemes of
the custom authentication classes."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny
from rest_framework_simplejwt.serializers import TokenObtainSerializer

API_TAGS = (
    ("/api/v2/", "batterydb"),
    ("/passport/", "passport"),
    ("/voltstorage/", "voltstorage"),
    ("/dmlf/", "dmlf"),
)


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The two shapes of an error body, as schema components.
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "An error: `detail` says what went wrong.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "A machine-readable reason, if any."},
        },
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": (
            'Refused input: `{"detail": ...}` for a request that could not be read, or the '
            "messages of each refused field by its name (`non_field_errors` for the object as "
            "a whole; a nested object or list carries its own errors in the same shape). A "
            "bulk create (a JSON list) keys the errors by the index of each bad item "
            '(`{"3": {"value": [...]}}`).'
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                },
                {"type": "object"},
            ]
        },
    },
}

# Why each error answer may come, when the operation does not say better.
ERROR_DESCRIPTIONS = {
    400: "Bad input: the body or a query parameter was refused; the answer names the problem.",
    401: "No credential, or one that is malformed, unknown, expired or revoked.",
    403: (
        "Your role in the object's organization does not allow this (or a session without "
        "its CSRF token)."
    ),
    404: "No such object, or it belongs to an organization you are not in.",
    409: "Other objects still refer to it: delete or change them first.",
    413: "The request body is over this endpoint's size limit.",
    415: "The body's Content-Type is not one this endpoint reads.",
    429: "Too many attempts: `Retry-After` says how many seconds to wait.",
}


API_TAGS_EXTENSION = "x-api-tags"


def api_tag(path: str) -> str:
    """The tag of the API ``path`` belongs to (``platform`` outside the APIs)."""
    for prefix, tag in API_TAGS:
        if path.startswith(prefix):
            return tag
    return "platform"


class PlatformAutoSchema(AutoSchema):
    """Tags every operation with the API its path belongs to (``platform`` otherwise) and
    declares the error answers it can give, each with its JSON shape (``ERROR_SCHEMAS``).

    Which errors apply follows from the operation itself: 401 everywhere (a credential that
    fails is refused on every endpoint, open ones included); 400 for a request body or query
    parameters; 413 and 415 for a request body; 403 for writes behind a permission; 404 for
    path parameters; 409 for deletes; 429 for throttled views and password checks. Errors an
    operation declares itself keep its description; an error declared without a shape (a
    free-form object, or no body) gets the platform's. Errors are always JSON.
    """

    def get_tags(self) -> list[str]:
        return [api_tag(self.path)]

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self.error_statuses(operation):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and _has_no_shape(response):
                status = int(code)
                schema = self.error_schema("ValidationErrors" if status == 400 else "Error")
                response["content"] = {"application/json": {"schema": schema}}
                if status == 429:
                    response["headers"] = {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before trying again.",
                        }
                    }
        operation["responses"] = dict(sorted(responses.items()))
        tags = [api_tag(path)]
        if tags != ["platform"] and operation.get("tags") not in (None, tags):
            # The platform's document groups operations by API; tags an API declares itself
            # (DMLF's, as its original names them) are kept for its own document
            # (core.schema.select_api).
            operation[API_TAGS_EXTENSION] = operation["tags"]
            operation["tags"] = tags
        return operation

    def error_statuses(self, operation: dict) -> set[int]:
        """The error answers this operation can give, from its parameters, body and view."""
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        statuses = {401}
        if has_body or "query" in locations:
            statuses.add(400)
        if has_body:
            statuses |= {413, 415}
        if "path" in locations:
            statuses.add(404)
        if self.method in UNSAFE_METHODS and self._checks_permissions():
            statuses.add(403)
        if self.method == "DELETE":
            statuses.add(409)
        if self._is_throttled():
            statuses.add(429)
        return statuses

    def error_schema(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMAS[name], object=name
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _checks_permissions(self) -> bool:
        permissions = self.view.get_permissions()
        return any(not isinstance(permission, AllowAny) for permission in permissions)

    def _is_throttled(self) -> bool:
        """Throttled views, and those that check a password (``core.backends`` locks out)."""
        if self.view.get_throttles():
            return True
        get_serializer_class = getattr(self.view, "get_serializer_class", None)
        serializer_class = get_serializer_class() if get_serializer_class else None
        return isinstance(serializer_class, type) and issubclass(
            serializer_class, TokenObtainSerializer
        )


def _has_no_shape(response: dict) -> bool:
    """Whether an error answer was declared without a body or with a free-form object."""
    content = response.get("content")
    if not content:
        return True
    return all(
        set(media.get("schema", {})) <= {"type", "additionalProperties", "description"}
        and media.get("schema", {}).get("type", "object") == "object"
        for media in content.values()
    )


class UserAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.UserAPIKeyAuthentication"
    name = "UserApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal API key from /accounts/api-keys/, sent as "
                "`Authorization: User <prefix>.<secret>`. In Swagger's Authorize dialog, "
                "enter `User <prefix>.<secret>`."
            ),
        }


class JWTScheme(SimpleJWTScheme):
    """``Authorization: Bearer <jwt>``, named ``jwtAuth`` as in the DMLF schema."""

    target_class = "core.authentication.JWTAuthentication"
    match_subclasses = False


class QueryTokenJWTScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.QueryTokenJWTAuthentication"
    name = "QueryToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "A JWT in the `token` query parameter.",
        }


def drop_slashless_copies(endpoints):
    """Document each route once, in its named form: the slash-less copies that
    ``core.routers.optional_slash`` adds are left out of the schema."""
    slashed = {(path, method) for path, _regex, method, _callback in endpoints}
    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if path.endswith("/") or (path + "/", method) not in slashed
    ]


#: The headers of a page of a bare-array list (``core.pagination.page_headers``).
PAGE_HEADERS = [
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="How many items the whole list holds.",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description='The next and previous pages (`<url>; rel="next"`), when there are.',
    ),
]
