"""OpenAPI: tags by API, and the credential schemes of the custom authentication classes."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

API_TAGS = (
    ("/api/v2/", "batterydb"),
    ("/passport/", "passport"),
    ("/voltstorage/", "voltstorage"),
    ("/dmlf/", "dmlf"),
)


class PlatformAutoSchema(AutoSchema):
    """Tags every operation with the API its path belongs to (``platform`` otherwise)."""

    def get_tags(self) -> list[str]:
        for prefix, tag in API_TAGS:
            if self.path.startswith(prefix):
                return [tag]
        return ["platform"]


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
