"""JWTs: one token class per API, the scope rule, single-use refresh tokens, log out everywhere.

Every token the platform mints carries, besides simplejwt's claims (``user_id``, ``jti``,
``exp``, ``iat`` and ``hash_password``, which ends it when the password changes):

- ``gen``: the user's ``token_generation`` when it was issued. :func:`user_tokens_revoke`
  (``POST /api/token/revoke/``, the profile page's button) raises the generation, and every JWT
  authentication (HTTP and WebSocket) and every refresh refuses a token of an older one: access
  and refresh tokens of every API end at once. A token without the claim is of generation 0.
  API keys are not tokens and stay valid (they are revoked one by one).
- ``api``: the API whose own login endpoint minted it (``dmlf``, ``voltstorage``). Such a token
  is accepted only under that API's URL prefixes (``settings.TOKEN_API_PREFIXES``), over HTTP
  and on the WebSocket; anywhere else it is a 401 that says so (:func:`check_token_api`).
  Tokens of the platform's ``/api/token/`` carry none and work everywhere.

Each API's lifetimes live on its token classes, so that they do not move with the platform's
settings: the platform's follow ``JWT_ACCESS_MINUTES``/``JWT_REFRESH_DAYS`` (``SIMPLE_JWT``);
DMLF's are 1 hour and 1 day as its original documents; VoltStorage's access token (it has no
refresh token) lives for the ``validity`` the client asks for, at most 366 days.

Refresh tokens of an API whose token class says ``rotate = True`` (the platform's) are single
use: a refresh claims the token's id by inserting it into simplejwt's blacklist
(``token_blacklist``), whose one-to-one key lets exactly one insert succeed however many
requests race (simplejwt's own check-then-``get_or_create`` let 4 to 9 of 20 concurrent
refreshes of one token through on PostgreSQL), and answers a new pair; the old token is refused
from then on. The blacklist holds only used refresh
tokens; ``manage.py flushexpiredtokens`` removes those past their expiry.

An app's own login and refresh endpoints subclass the serializers below (declaring their token
class, and for a single-token login the name of the lifetime field) and the views in
``core.views``; the brute-force protection of ``core.backends`` applies to them unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import exceptions, serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.exceptions import AuthenticationFailed as TokenAuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

API_CLAIM = "api"
GENERATION_CLAIM = "gen"

USED_REFRESH_TOKEN = "This refresh token has already been used; log in again."
REVOKED_TOKEN = "This token has been revoked (log out everywhere); log in again."


class _SettingLifetime:
    """A lifetime read from ``SIMPLE_JWT`` when a token is made, not when the class is."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, instance, owner) -> dt.timedelta:
        return getattr(jwt_settings.api_settings, self.name)


class PlatformTokenMixin:
    """Claims of every token of the platform: the user, the password hash, the token
    generation and, on the tokens of an API's own login, that API (``api``)."""

    api: str | None = None
    lifetime: dt.timedelta
    # Longest lifetime ``for_user(lifetime=...)`` accepts.
    max_lifetime: dt.timedelta | None = None

    @classmethod
    def for_user(cls, user, *, lifetime: dt.timedelta | None = None):
        """A new token for ``user``, valid for the class's lifetime or ``lifetime``.

        A lifetime of zero gives a token that has already expired. Nothing is written: refresh
        tokens enter the blacklist table only when they are used."""
        api_settings = jwt_settings.api_settings
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
        if api_settings.CHECK_REVOKE_TOKEN:
            token[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
        token[GENERATION_CLAIM] = user.token_generation
        if cls.api is not None:
            token[API_CLAIM] = cls.api
        if lifetime is not None:
            if lifetime < dt.timedelta(0) or (
                cls.max_lifetime is not None and lifetime > cls.max_lifetime
            ):
                raise ValueError(f"A lifetime must be between 0 and {cls.max_lifetime}.")
            token.set_exp(from_time=token.current_time, lifetime=lifetime)
        return token


class PlatformAccessToken(PlatformTokenMixin, jwt_tokens.AccessToken):
    """An access token of ``/api/token/``: accepted by every API."""

    lifetime = _SettingLifetime("ACCESS_TOKEN_LIFETIME")


class PlatformRefreshToken(PlatformTokenMixin, jwt_tokens.RefreshToken):
    """A refresh token of ``/api/token/``: single use, refreshed at ``/api/token/refresh/``."""

    lifetime = _SettingLifetime("REFRESH_TOKEN_LIFETIME")
    access_token_class = PlatformAccessToken
    # A refresh answers a new pair and the used token is refused from then on.
    rotate = True

    def check_blacklist(self) -> None:
        """A used token is refused when it is read (the refresh's claim settles races)."""
        jti = self[jwt_settings.api_settings.JTI_CLAIM]
        if BlacklistedToken.objects.filter(token__jti=jti).exists():
            raise TokenError(USED_REFRESH_TOKEN)


class DMLFAccessToken(PlatformAccessToken):
    """Data Mining Lab Freiberg: access tokens live 1 hour, as the original's settings say."""

    api = "dmlf"
    lifetime = dt.timedelta(hours=1)


class DMLFRefreshToken(PlatformRefreshToken):
    """Data Mining Lab Freiberg: refresh tokens live 1 day.

    They are not rotated: the original answers a refresh with ``{"access"}`` only, and its
    guide's client refreshes with the token it got at login for the whole day."""

    api = "dmlf"
    lifetime = dt.timedelta(days=1)
    access_token_class = DMLFAccessToken
    rotate = False


class VoltStorageAccessToken(PlatformAccessToken):
    """VoltStorage: one access token per login, valid for the ``validity`` asked for (seconds,
    default 86400, 0 to 31622400; 0 gives a token that has already expired). No refresh."""

    api = "voltstorage"
    lifetime = dt.timedelta(seconds=86_400)
    max_lifetime = dt.timedelta(seconds=31_622_400)


# --- The scope rule ---------------------------------------------------------------------------


def path_is_under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, segment by segment (``/dmlf`` is under
    ``/dmlf/``; ``/dmlfx/`` is not)."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


# Refusals are 401s with a ``code`` beside the ``detail``, as simplejwt's own.


def check_token_api(token, path: str) -> None:
    """Refuses (401) a token minted by an API's own login outside that API's URL prefixes.

    ``path`` is the request's path below the script prefix (``request.path_info``; on the
    WebSocket the scope's path). Tokens without the ``api`` claim pass everywhere."""
    api = token.get(API_CLAIM)
    if api is None:
        return
    prefixes = settings.TOKEN_API_PREFIXES.get(api, ())
    if any(path_is_under(path, prefix) for prefix in prefixes):
        return
    where = ", ".join(prefixes) if prefixes else "no URL of this platform"
    raise TokenAuthenticationFailed(
        f"This token was issued by the login of the {api} API and is accepted only under {where}.",
        code="token_wrong_api",
    )


def check_token_user(token, user) -> None:
    """Refuses (401) a token of an older token generation than ``user``'s (log out
    everywhere). The password-hash claim is checked by simplejwt's authentication."""
    if token.get(GENERATION_CLAIM, 0) != user.token_generation:
        raise TokenAuthenticationFailed(REVOKED_TOKEN, code="token_revoked")


# --- Log out everywhere and single use --------------------------------------------------------


def user_tokens_revoke(*, user) -> None:
    """Ends every JWT issued to ``user`` so far, access and refresh tokens of every API, by
    raising the user's token generation (in the database, so that concurrent revocations each
    count). API keys and sessions are not tokens: they stay valid."""
    user_model = get_user_model()
    user_model.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.token_generation = (
        user_model.objects.filter(pk=user.pk).values_list("token_generation", flat=True).get()
    )


def refresh_token_claim(*, token, user) -> None:
    """Marks ``token`` used, or raises ``TokenError`` when it already was.

    The claim is one insert into the blacklist, whose key is unique per token: of any number
    of concurrent refreshes of one token exactly one inserts, the others fail on the key (on
    PostgreSQL they wait for the winner's commit, then fail)."""
    api_settings = jwt_settings.api_settings
    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=token[api_settings.JTI_CLAIM],
                defaults={
                    "user": user,
                    # The used token itself is not kept.
                    "token": "",
                    "created_at": datetime_from_epoch(token["iat"]),
                    "expires_at": datetime_from_epoch(token["exp"]),
                },
            )
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise TokenError(USED_REFRESH_TOKEN) from exc


# --- Serializers of the login and refresh endpoints -------------------------------------------


# An API's own endpoint subclasses these serializers declaring its token class (the docstrings
# are the schema's descriptions): ``TokenObtainPairSerializer`` and ``TokenRefreshSerializer``
# its refresh token class (``token_class = DMLFRefreshToken``; the access token comes from
# that class's ``access_token_class``); ``AccessTokenObtainSerializer`` its access token class,
# and may declare ``username_field`` (``"email"``) and ``lifetime_field``: the request field
# giving the token's lifetime in seconds, from 0 to the class's ``max_lifetime`` (outside: a
# 400 on that field, before the password is checked), defaulting to the class's lifetime. Bad
# credentials are a 401 unless ``invalid_credentials`` raises something else.


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    """A username (or email) and a password in; a refresh and an access token out."""

    token_class = PlatformRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        super(jwt_serializers.TokenObtainPairSerializer, self).validate(attrs)
        refresh = self.get_token(self.user)
        access = self.token_class.access_token_class.for_user(self.user)
        return {"refresh": str(refresh), "access": str(access)}


class TokenRefreshSerializer(serializers.Serializer):
    """A refresh token in; a new access token out, and a new refresh token where tokens rotate
    (then the one sent is refused from then on).

    Refused with a 401: an invalid, expired or used token, one of another API (refresh it at
    that API's endpoint), one of a deleted or inactive user, and one from before a password
    change or a log-out-everywhere."""

    refresh = serializers.CharField(
        help_text="The refresh token; the answer carries a new one when tokens rotate."
    )
    access = serializers.CharField(read_only=True)

    token_class: type[PlatformRefreshToken] = PlatformRefreshToken

    default_error_messages = {
        "no_active_account": "No active account found for the given token.",
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        api_settings = jwt_settings.api_settings
        token_class = self.token_class
        refresh = token_class(attrs["refresh"])
        if refresh.get(API_CLAIM) != token_class.api:
            raise TokenError(
                "This refresh token was issued by another API's login; refresh it there."
            )
        user_model = get_user_model()
        user = user_model.objects.filter(
            **{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}
        ).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        if api_settings.CHECK_REVOKE_TOKEN and refresh.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise TokenAuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        check_token_user(refresh, user)
        access = token_class.access_token_class.for_user(user)
        if not token_class.rotate:
            return {"access": str(access)}
        refresh_token_claim(token=refresh, user=user)
        return {"access": str(access), "refresh": str(token_class.for_user(user))}


class AccessTokenObtainSerializer(jwt_serializers.TokenObtainSerializer):
    """Credentials in; one access token out, valid for as long as asked."""

    token_class: type[PlatformAccessToken] = VoltStorageAccessToken
    lifetime_field: str | None = None
    response_field = "token"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.lifetime_field:
            maximum = self.token_class.max_lifetime or self.token_class.lifetime
            self.fields[self.lifetime_field] = serializers.IntegerField(
                min_value=0,
                max_value=int(maximum.total_seconds()),
                default=int(self.token_class.lifetime.total_seconds()),
                write_only=True,
                help_text="Seconds the token is valid for (0 gives one that has expired).",
            )
        self.fields[self.response_field] = serializers.CharField(read_only=True)

    def invalid_credentials(self, exc: exceptions.AuthenticationFailed):
        """What a wrong login or password raises: the 401 by default."""
        raise exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            super().validate(attrs)
        except exceptions.AuthenticationFailed as exc:
            self.invalid_credentials(exc)
        lifetime = None
        if self.lifetime_field:
            lifetime = dt.timedelta(seconds=attrs[self.lifetime_field])
        token = self.token_class.for_user(self.user, lifetime=lifetime)
        return {self.response_field: str(token)}
