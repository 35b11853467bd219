"""Credentials accepted by every API: personal API keys, JWTs and the session cookie."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication

from core.models import UserAPIKey

API_KEY_KEYWORD = "User"


class UserAPIKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: User <prefix>.<secret>``: a personal API key, authenticating as its user.

    Headers with another keyword are left to the next class. A key that is malformed,
    unknown, revoked or expired is a 401 that says which; the secret is never echoed.
    """

    keyword = API_KEY_KEYWORD

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            keyword, _, key = header.decode("latin-1").strip().partition(" ")
        except UnicodeDecodeError:
            return None
        if keyword.lower() != self.keyword.lower():
            return None
        return self.authenticate_key(key.strip())

    @staticmethod
    def authenticate_key(key: str):
        prefix, dot, secret = key.partition(".")
        if not key or not dot or not prefix or not secret or " " in key:
            raise exceptions.AuthenticationFailed(
                "Malformed API key: expected 'Authorization: User <prefix>.<secret>'.",
                code="api_key_malformed",
            )
        api_key = UserAPIKey.objects.get_with_user(prefix) if len(prefix) <= 8 else None
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Unknown API key.", code="api_key_unknown")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(
                "This API key has been revoked.", code="api_key_revoked"
            )
        if api_key.expiry_date is not None and api_key.expiry_date <= timezone.now():
            raise exceptions.AuthenticationFailed(
                "This API key has expired.", code="api_key_expired"
            )
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(
                "The owner of this API key is inactive.", code="user_inactive"
            )
        return api_key.user, api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class JWTAuthentication(jwt_authentication.JWTAuthentication):
    """``Authorization: Bearer <jwt>``, refusing inactive users and tokens from before a
    password change (``CHECK_REVOKE_TOKEN``)."""


class QueryTokenJWTAuthentication(JWTAuthentication):
    """A JWT in the ``token`` query parameter, where an API documents it (VoltStorage)."""

    def authenticate(self, request):
        raw_token = request.query_params.get("token")
        if not raw_token:
            return None
        validated_token = self.get_validated_token(raw_token.encode())
        return self.get_user(validated_token), validated_token
