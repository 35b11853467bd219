"""Credentials accepted by every API: personal API keys, JWTs and the session cookie.

API keys are not tokens: logging out everywhere (``core.tokens.user_tokens_revoke``) ends every
JWT of the user but leaves the keys valid; each key is revoked on its own.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication

from core import tokens
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
    """``Authorization: Bearer <jwt>``, from any of the platform's login endpoints.

    Refused with a 401 that says why: a token of an inactive or deleted user, one from before
    a password change (``CHECK_REVOKE_TOKEN``) or a log-out-everywhere (its token generation,
    ``core.tokens``), and one minted by an API's own login used outside that API's URL
    prefixes (``settings.TOKEN_API_PREFIXES``).
    """

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        return self.authenticate_token(raw_token, request.path_info)

    def authenticate_token(self, raw_token: bytes, path: str):
        """``(user, token)`` for a raw JWT presented at ``path``, or ``AuthenticationFailed``.
        The WebSocket's authentication uses it too."""
        validated_token = self.get_validated_token(raw_token)
        tokens.check_token_api(validated_token, path)
        return self.get_user(validated_token), validated_token

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        tokens.check_token_user(validated_token, user)
        return user


class QueryTokenJWTAuthentication(JWTAuthentication):
    """A JWT in the ``token`` query parameter, where an API documents it (VoltStorage), with
    the same checks as the header's."""

    def authenticate(self, request):
        raw_token = request.query_params.get("token")
        if not raw_token:
            return None
        return self.authenticate_token(raw_token.encode(), request.path_info)
