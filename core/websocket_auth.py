"""WebSocket authentication: a JWT or API key in the query string or header, else the session."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from core.authentication import API_KEY_KEYWORD, JWTAuthentication, UserAPIKeyAuthentication


@database_sync_to_async
def _user_from_jwt(raw: str, path: str):
    """The token's user, with the checks of the HTTP side (scope, generation, password), or
    the anonymous user, whom consumers refuse."""
    try:
        user, _ = JWTAuthentication().authenticate_token(raw.encode(), path)
        return user
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser()


def _socket_path(scope) -> str:
    """The socket's path below the root path, as ``request.path_info`` is on HTTP."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


@database_sync_to_async
def _user_from_api_key(key: str):
    try:
        user, _ = UserAPIKeyAuthentication.authenticate_key(key)
        return user
    except AuthenticationFailed:
        return AnonymousUser()


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from ``?token=<jwt>``, ``?key=<api key>`` or an
    ``Authorization`` header (``Bearer``/``User``); other sockets keep the session's user.

    A JWT passes the checks of the HTTP side: one of an older token generation (log out
    everywhere) or minted by another API's login (outside its URL prefixes) leaves the socket
    anonymous, which consumers close with 4401."""

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        keyword, _, credential = authorization.partition(" ")
        user = None
        if query.get("token"):
            user = await _user_from_jwt(query["token"][0], _socket_path(scope))
        elif query.get("key"):
            user = await _user_from_api_key(query["key"][0])
        elif keyword.lower() == "bearer" and credential:
            user = await _user_from_jwt(credential.strip(), _socket_path(scope))
        elif keyword.lower() == API_KEY_KEYWORD.lower() and credential:
            user = await _user_from_api_key(credential.strip())
        if user is not None:
            scope = {**scope, "user": user}
        return await super().__call__(scope, receive, send)


def WebSocketAuthMiddlewareStack(inner):
    """Session authentication first, then tokens, which win when present."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator(OriginValidator):
    """Refuses sockets whose ``Origin`` is not one of ``ALLOWED_HOSTS``.

    Browsers always send ``Origin``, so a cross-site page cannot ride on a user's session.
    Devices and scripts send none and authenticate with a token or key, so a missing
    ``Origin`` is allowed (channels' own validator refuses it).
    """

    def __init__(self, application):
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)
