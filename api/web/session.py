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
* **An expired session forgives** (:func:`back_after_login`): the cookie outlives its token by
  :data:`EXPIRED_GRACE_SECONDS`, so an expired token is still sent and the login page can say the
  session ran out (a missing cookie only says "log in"). After logging in the user lands where they
  were: the page asked for, or for a form, the page the form was on (its same-site ``Referer``). What
  the form held (not the CSRF token, never a password) waits in the signed, ``HttpOnly`` cookie
  ``werkmatch_formulier`` for :data:`KEPT_SECONDS`, never in the URL; that page fills it in again
  (:func:`kept_form`, ``static/bewaard.js``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.services import tokens
from api.services.users import Rol, User
from matching import tenancy
from matching.settings import Settings

COOKIE = "werkmatch_sessie"
FORM_COOKIE = "werkmatch_formulier"
EXPIRED_GRACE_SECONDS = 12 * 3600  # a working day after the token ends, the login page can still say "verlopen"
KEPT_SECONDS = 30 * 60  # what a form held waits this long for the login
KEPT_MAX_BYTES = 3500  # browsers keep cookies up to 4 KB; a form over this is not kept
NOT_KEPT = frozenset({"csrf", "wachtwoord", "password"})


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
        max_age=settings.auth.token_minutes * 60 + EXPIRED_GRACE_SECONDS,  # the token itself says when it ends
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_cookie(response: Any) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/…``), else None: no open redirect after login.

    Refused: absolute URLs, ``//host`` and ``/\\host`` (browsers read both as another host), and any
    control character or space (browsers drop tabs and newlines, so ``/``, a tab, ``/host`` is ``//host``).
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


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


async def gemeente_scope(web: Annotated[WebSession, Depends(current_session)]) -> None:
    """Limit the page's database transactions to the user's gemeente (:mod:`matching.tenancy`); async, so the
    page (run in a worker thread) inherits it. The pages of a caseload (clients, inbox, voorstellen) use it."""
    tenancy.enter(web.user.gemeente)


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


# ---------------------------------------------------------------------------- after an expired session


def _form_key(settings: Settings) -> bytes:
    return hmac.new(tokens.signing_key(settings).encode(), b"formulier", hashlib.sha256).digest()


def _sign(settings: Settings, payload: dict[str, Any]) -> str:
    data = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
    return f"{data}.{hmac.new(_form_key(settings), data.encode(), hashlib.sha256).hexdigest()}"


def _unsign(settings: Settings, value: str) -> dict[str, Any] | None:
    data, _, signature = value.rpartition(".")
    expected = hmac.new(_form_key(settings), data.encode(), hashlib.sha256).hexdigest()
    if not data or not hmac.compare_digest(signature, expected):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(data.encode()))
    except ValueError:
        return None
    fresh = isinstance(payload, dict) and time.time() - float(payload.get("op", 0)) < KEPT_SECONDS
    return payload if fresh else None


def _referer_path(request: Request) -> str | None:
    """The page a form was sent from, when it is on this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return None
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


async def back_after_login(request: Request, error: LoginRequired) -> Response:
    """The login page, which says why, and remembers where to go back to and what a form held.

    A page (GET) comes back as it was asked. A form (POST) comes back as the page it was sent from,
    with its text fields kept in :data:`FORM_COOKIE`: the form's own address would be a GET on a POST
    route after the login.
    """
    target: str | None = error.next_path
    kept: dict[str, Any] | None = None
    if request.method not in ("GET", "HEAD"):
        target = _referer_path(request)
        form = await request.form()
        fields = {name: value for name, value in form.items() if isinstance(value, str) and name not in NOT_KEPT}
        if target and any(value.strip() for value in fields.values()):
            kept = {"pad": target, "actie": request.url.path, "velden": fields, "op": time.time()}
    query = {"volgende": target} if target else {}
    if error.reason:
        query["melding"] = "verlopen"
    response = RedirectResponse("/inloggen" + (f"?{urlencode(query)}" if query else ""), status_code=303)
    if kept is not None:
        value = _sign(request.app.state.settings, kept)
        if len(value) <= KEPT_MAX_BYTES:
            secure = request.url.scheme == "https" or request.app.state.settings.environment == "production"
            response.set_cookie(
                FORM_COOKIE, value, max_age=KEPT_SECONDS, httponly=True, samesite="lax", secure=secure, path="/"
            )
    return response


def kept_form(request: Request) -> dict[str, Any] | None:
    """What a form held when the session ran out, if it belongs on this page: ``actie`` and ``velden``."""
    value = request.cookies.get(FORM_COOKIE)
    payload = _unsign(request.app.state.settings, value) if value else None
    if payload is None or urlsplit(str(payload.get("pad", ""))).path != request.url.path:
        return None
    return {"actie": payload.get("actie"), "velden": payload.get("velden") or {}}


def forget_form(response: Any) -> None:
    response.delete_cookie(FORM_COOKIE, path="/", httponly=True, samesite="lax")
