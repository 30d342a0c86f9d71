"""The web UI's login session: the API's own JWT in a cookie, and a CSRF token derived from it.

* **Cookie** ``werkmatch_sessie``: the access token of :func:`api.services.tokens.create_access_token`,
  ``HttpOnly`` (scripts cannot read it), ``SameSite=Lax`` (not sent on cross-site POSTs), ``Secure``
  on https and in production, ``Path=/``. Every request decodes it and reads the account again
  (:func:`api.services.tokens.user_for_token`, the API's own check), so a deactivated account or a changed
  role takes effect at once, as in the API. Logging out deletes the cookie and revokes the token (and
  every other token of the account, :func:`api.services.tokens.log_out`), so a copied cookie stops working too.
* **CSRF**: every form carries ``csrf`` = HMAC-SHA256(signing key, ``"csrf|" + jti``) of the
  session's token; :func:`check_csrf` compares it in constant time. No server-side state, and a
  token of another session (another ``jti``) does not fit. The login form has no session yet: it
  relies on SameSite and on the fact that logging someone in as yourself gains an attacker nothing
  the login itself would not.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from api.services import tokens
from api.services.users import Rol, User
from matching.settings import Settings

COOKIE = "werkmatch_sessie"


class LoginRequired(Exception):
    """No valid session: the UI sends the browser to the login page (and back afterwards)."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        super().__init__(reason or "niet ingelogd")
        self.next_path = next_path
        self.reason = reason


class Forbidden(Exception):
    """Logged in, but this role may not open this page."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


class CsrfError(Exception):
    """A form without the session's CSRF token."""


@dataclass(frozen=True)
class WebSession:
    """The logged-in user of a request and the CSRF token their forms carry."""

    user: User
    csrf: str


def csrf_token(settings: Settings, jti: str) -> str:
    key = tokens.signing_key(settings).encode()
    return hmac.new(key, f"csrf|{jti}".encode(), hashlib.sha256).hexdigest()


def set_cookie(response: Any, request: Request, settings: Settings, token: str) -> None:
    secure = request.url.scheme == "https" or settings.environment == "production"
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.auth.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_cookie(response: Any) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def _next_path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def current_session(request: Request) -> WebSession:
    """The session of this request.

    Raises:
        LoginRequired: No cookie, an expired or altered token, or an account that is gone or deactivated.
    """
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired(_next_path(request))
    settings: Settings = request.app.state.settings
    try:
        user, claims = tokens.user_for_token(settings, request.app.state.engine, token)
    except tokens.NotAuthenticated as error:
        raise LoginRequired(_next_path(request), error.detail) from None
    return WebSession(user=user, csrf=csrf_token(settings, str(claims["jti"])))


def require_role(web: WebSession, *roles: Rol) -> None:
    """Raise :class:`Forbidden` unless the user has one of ``roles``."""
    if web.user.rol not in roles:
        raise Forbidden(" of ".join(ROL_NAMEN[role] for role in roles))


def check_csrf(web: WebSession, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, web.csrf):
        raise CsrfError


ROL_NAMEN = {
    Rol.WERKCONSULENT: "werkconsulent",
    Rol.ACCOUNTMANAGER: "accountmanager",
    Rol.DATA_SCIENTIST: "data scientist",
    Rol.BEHEERDER: "beheerder",
}
