"""Credentials accepted by every API: personal API keys, JWTs and the session cookie.

API keys are not tokens: logging out everywhere (``core.tokens.user_tokens_revoke``) ends every
JWT of the user but leaves the keys valid; each key is revoked on its own.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core import tokens
from core.models import UserAPIKey
from core.prepared import PreparedQuery

#: The user of a token by primary key, compiled once (a third of a small request otherwise).
USER_BY_PK = PreparedQuery(lambda pk: get_user_model()._default_manager.filter(pk=pk))

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
        """simplejwt's checks (user found and active, password unchanged), the user read by
        ``USER_BY_PK``, and the token generation."""
        if jwt_settings.USER_ID_FIELD != "id":
            user = super().get_user(validated_token)
        else:
            try:
                user_id = validated_token[jwt_settings.USER_ID_CLAIM]
            except KeyError as exc:
                message = _("Token contained no recognizable user identification")
                raise InvalidToken(message) from exc
            found = USER_BY_PK.instances(self.user_model._meta.pk.get_prep_value(user_id))
            if not found:
                raise exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
            user = found[0]
            if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
                raise exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
            if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(
                jwt_settings.REVOKE_TOKEN_CLAIM
            ) != get_md5_hash_password(user.password):
                raise exceptions.AuthenticationFailed(
                    _("The user's password has been changed."), code="password_changed"
                )
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
