"""Access tokens and the login of the API: OAuth2 password flow, HS256 JWTs, role checks.

``POST /api/v1/token`` (form fields ``username``, ``password``) answers
``{"access_token", "token_type": "bearer", "expires_in"}``. The token carries ``sub`` (the username),
``rol``, ``iat``, ``exp``, a ``jti`` and ``gen`` (the account's token generation); it is signed with
:func:`signing_key`, the installation's own random key (:mod:`api.services.keys`), never a key in the source.
Every request reads the user from the database again, so deactivating an account or changing a role
takes effect at once; the ``rol`` claim is information for the client, never what the API checks.

* **Lifetime on the server**: a token whose ``exp - iat`` is longer than ``auth.token_minutes``, or
  whose ``iat`` lies in the future, is refused, whoever signed it.
* **Revocation**: ``POST /api/v1/token/intrekken`` (logging out; the web UI's logout does the same),
  deactivating and reactivating an account raise its generation (:func:`api.services.users.revoke_tokens`);
  a token of an older generation is refused. Logging out ends *all* the account's tokens, on
  every device: simple, and what a person who suspects a stolen token wants.
* **Login**: a wrong password, an unknown and a deactivated account get the same answer (no account
  oracle); failed logins are logged at WARNING (username and address, never the password) and
  throttled per account and per address (:mod:`api.services.login_throttle`: 429 with ``Retry-After``).

The app wires it up with::

    security.install(app, settings)      # problem+json for AuthError; refuses a demo key in production
    app.include_router(security.router)
    app.state.settings, app.state.engine = settings, engine

    @app.get("/api/v1/...")
    def route(user: CurrentUser): ...                                      # any logged-in user
    @app.post("/api/v1/...")
    def route(user: Annotated[User, Depends(require(Rol.BEHEERDER))]): ...   # beheerder only

Failures raise :class:`AuthError`; :func:`install` turns it into ``application/problem+json`` with a
Dutch ``title`` and ``detail`` (401 with ``WWW-Authenticate: Bearer``, 403 naming the role needed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services import keys
from api.services.login_throttle import LoginThrottle
from api.services.users import Rol, User, authenticate, get_user, normalize_username, revoke_tokens, token_generation
from matching.errors import InvalidInputError, printable
from matching.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
TOKEN_URL = "/api/v1/token"
# SHA-256 of keys that were published (the fixed demo key of werkmatch before issue 15): refused
# everywhere, in case one was copied into WERKMATCH_AUTH__SECRET_KEY.
PUBLISHED_KEY_DIGESTS = frozenset({"4ae44bc65aed6c6f1854d62c085b480d40ba789ed399228605e1182e0a2928db"})
# Clocks of the processes that issue and check tokens agree (one host, or NTP): a token "issued" later
# than this in the future was not issued by werkmatch.
CLOCK_SKEW_SECONDS = 5
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
MIN_KEY_LENGTH = 32
PROBLEM = "application/problem+json"

_LOGIN_FAILED = "Inloggen mislukt"
_NOT_LOGGED_IN = "Niet ingelogd"


class ProblemError(Exception):
    """An RFC 9457 problem a route raises; :func:`install` renders every one as problem+json (never cached).

    Attributes:
        status: The HTTP status.
        title: Dutch, short.
        detail: Dutch: what happened and what to do.
        headers: Extra response headers.
        extra: Extra members of the problem object (RFC 9457 §3.2), e.g. the figures of a refusal.
    """

    def __init__(
        self, status: int, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"type": "about:blank", "status": self.status, "title": self.title, "detail": self.detail}
        body.update(finite(self.extra))
        return JSONResponse(
            body, status_code=self.status, media_type=PROBLEM, headers={**self.headers, "Cache-Control": "no-store"}
        )


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """An RFC 9457 ``application/problem+json`` response; every text in it made printable (:func:`_sendable`)."""
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return JSONResponse(_sendable(body), status_code=status, media_type=PROBLEM, headers=headers)


def _sendable(value: Any) -> Any:
    """Texts with no lone surrogate or control character: a message echoing a sent ``"\\ud800"`` was a 500."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: _sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    return value


class AuthError(ProblemError):
    """A refused login or request: 401 (who are you?) or 403 (you may not); 401 and 403 carry
    ``WWW-Authenticate`` (RFC 6750 §3)."""


def finite(value: Any) -> Any:
    """A deep copy with NaN and infinities as None: JSON has no such numbers (metrics of empty groups)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def _unauthorized(detail: str, error: str | None = "invalid_token", title: str = _NOT_LOGGED_IN) -> AuthError:
    """401 with the RFC 6750 challenge; no error code when the request carried no token at all."""
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return AuthError(401, title, detail, {"WWW-Authenticate": challenge})


class Token(BaseModel):
    """The OAuth2 token response (RFC 6749 §5.1; snake_case as the RFC prescribes)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Problem(BaseModel):
    """An RFC 9457 problem, as documented in the OpenAPI schema."""

    type: str = "about:blank"
    status: int
    title: str
    detail: str


def _configured_key(settings: Settings, secret: str, variable: str) -> str:
    """A key set in the environment: never a published one; in production at least 32 characters."""
    if hashlib.sha256(secret.encode()).hexdigest() in PUBLISHED_KEY_DIGESTS:
        raise InvalidInputError(
            f"{variable} is een openbaar bekende sleutel uit een oudere versie van werkmatch; stel een eigen "
            "willekeurige sleutel in (bijv. met: openssl rand -hex 32), of laat de variabele leeg voor de "
            "eigen sleutel van deze installatie"
        )
    if settings.environment == "production" and len(secret) < MIN_KEY_LENGTH:
        raise InvalidInputError(
            f"{variable} is te kort ({len(secret)} tekens); stel een sleutel van minstens "
            f"{MIN_KEY_LENGTH} tekens in, bijv. met: openssl rand -hex 32"
        )
    return secret


def signing_key(settings: Settings) -> str:
    """The HS256 key for access tokens (and the web UI's CSRF tokens).

    Args:
        settings: ``auth.secret_key``, ``data_dir`` and ``environment``.

    Returns:
        ``auth.secret_key`` when set; otherwise the installation's own random key in
        ``<data_dir>/sleutels/token.key``, created on first need (:mod:`api.services.keys`).

    Raises:
        InvalidInputError: In Dutch, for a published key, a configured key shorter than 32
            characters in production, or a key file that is broken (or readable by others, in
            production): the service then refuses to start.
    """
    secret = settings.auth.secret_key
    if secret:
        return _configured_key(settings, secret, "WERKMATCH_AUTH__SECRET_KEY")
    return keys.file_key(settings, keys.TOKEN_KEY)


def pseudonym_key(settings: Settings) -> str:
    """The HMAC key of the pseudonyms: apart from the token key, so one cannot reverse the other.

    Returns:
        ``auth.pseudonym_key`` when set; otherwise ``<data_dir>/sleutels/pseudoniem.key``.

    Raises:
        InvalidInputError: As :func:`signing_key`, and when the configured key equals the token key.
    """
    secret = settings.auth.pseudonym_key
    if not secret:
        return keys.file_key(settings, keys.PSEUDONYM_KEY)
    _configured_key(settings, secret, "WERKMATCH_AUTH__PSEUDONYM_KEY")
    if secret == settings.auth.secret_key:
        raise InvalidInputError(
            "WERKMATCH_AUTH__PSEUDONYM_KEY is gelijk aan WERKMATCH_AUTH__SECRET_KEY; kies een andere sleutel, "
            "anders kan wie tokens kan ondertekenen ook pseudoniemen terugrekenen"
        )
    return secret


def create_access_token(settings: Settings, user: User, now: datetime | None = None, generation: int = 0) -> str:
    """A signed access token for ``user``, valid ``auth.token_minutes`` from ``now``.

    Args:
        settings: The signing key and the lifetime.
        user: Becomes ``sub`` (username) and ``rol``.
        now: The issue time (tests pass one in the past); default: the current time.
        generation: The account's token generation (:func:`api.services.users.token_generation`); a token
            with an older one is refused.

    Returns:
        The encoded JWT.
    """
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user.username,
        "rol": Rol(user.rol).value,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.auth.token_minutes),
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a valid token.

    Args:
        settings: The signing key and the lifetime.
        token: The encoded JWT from the ``Authorization`` header.

    Returns:
        The claims; ``sub``, ``rol``, ``iat``, ``exp``, ``jti`` and ``gen`` are present.

    Raises:
        AuthError: 401, with a Dutch detail that says whether the token expired, was altered, is
            not a token of this service, or lives longer than this service allows.
    """
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "rol", "iat", "exp", "jti", "gen"]},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("Het token is verlopen; log opnieuw in.", title="Token verlopen") from None
    except jwt.InvalidSignatureError:
        raise _unauthorized(
            "De handtekening van het token klopt niet: het is gewijzigd of niet door werkmatch uitgegeven; "
            "log opnieuw in."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise _unauthorized(
            f"Het token mist het gegeven '{error.claim}'; het is niet door werkmatch uitgegeven. Log opnieuw in."
        ) from None
    except jwt.ImmatureSignatureError:
        raise _unauthorized("Het token is uitgegeven in de toekomst; het is niet door werkmatch uitgegeven.") from None
    except jwt.DecodeError:
        raise _unauthorized(
            "Het token is onleesbaar: geen geldig JWT. Stuur het access_token uit POST /api/v1/token mee "
            "als 'Authorization: Bearer <token>'."
        ) from None
    except jwt.InvalidTokenError as error:
        logger.info("token refused: %s", error)
        raise _unauthorized("Het token is ongeldig; log opnieuw in.") from None
    issued, expires, generation = claims["iat"], claims["exp"], claims["gen"]
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in (issued, expires)):
        raise _unauthorized("Het token is ongeldig: iat en exp moeten tijdstippen zijn. Log opnieuw in.")
    if not isinstance(generation, int) or isinstance(generation, bool):
        raise _unauthorized("Het token is ongeldig: gen moet een geheel getal zijn. Log opnieuw in.")
    if issued > datetime.now(UTC).timestamp() + CLOCK_SKEW_SECONDS:
        raise _unauthorized("Het token is uitgegeven in de toekomst; het is niet door werkmatch uitgegeven.")
    if expires - issued > settings.auth.token_minutes * 60:
        raise _unauthorized(
            f"Het token is langer geldig dan de {settings.auth.token_minutes} minuten die deze service toestaat; "
            "het is niet door werkmatch uitgegeven. Log opnieuw in."
        )
    return claims


def user_for_token(settings: Settings, engine: Engine, token: str) -> tuple[User, dict[str, Any]]:
    """The active user a token belongs to, and its claims: what the API and the web UI both check.

    Raises:
        AuthError: 401 for an unreadable, altered, expired or revoked token, or for a user that no
            longer exists or is deactivated.
    """
    claims = decode_access_token(settings, token)
    with Session(engine, expire_on_commit=False) as session:
        user = get_user(session, str(claims["sub"]))
        generation = token_generation(session, str(claims["sub"]))
    if user is None:
        raise _unauthorized(f"De gebruiker '{claims['sub']}' van dit token bestaat niet (meer).")
    if not user.actief:
        raise _unauthorized(f"Het account '{user.username}' is gedeactiveerd; neem contact op met een beheerder.")
    if claims["gen"] != generation:
        raise _unauthorized(
            "Dit token is ingetrokken: er is sindsdien uitgelogd, of het account is gedeactiveerd of heractiveerd. "
            "Log opnieuw in.",
            title="Token ingetrokken",
        )
    return user, claims


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _engine(request: Request) -> Engine:
    return request.app.state.engine


router = APIRouter(tags=["inloggen"])

_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response documented as problem+json only (``model=`` would add application/json)."""
    return {"description": description, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}


def error_responses(**descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses by status (``_403="…"``); :mod:`api.openapi_doc` makes them problem+json."""
    return {int(status.lstrip("_")): {"description": text} for status, text in descriptions.items()}


def login_throttle(app: FastAPI) -> LoginThrottle:
    """The app's login throttle (made by :func:`install`, or here on first use)."""
    throttle = getattr(app.state, "login_throttle", None)
    if throttle is None:
        throttle = app.state.login_throttle = LoginThrottle.from_settings(app.state.settings)
    return throttle


def client_address(request: Request) -> str:
    """The peer address (behind a proxy: the proxy's, unless uvicorn runs with --forwarded-allow-ips)."""
    return request.client.host if request.client else "onbekend"


def check_login(request: Request, username: str, password: str) -> tuple[User, int]:
    """The active user whose password matches, and their token generation: the login of API and web UI.

    Raises:
        ProblemError: 429 with ``Retry-After`` when the account or the address has too many recent
            failed logins (asked before the password is checked, so also with the right password).
        AuthError: 401 with one text for a wrong password, an unknown and a deactivated account.
    """
    throttle = login_throttle(request.app)
    account = normalize_username(username)[:64]
    address = client_address(request)
    wait = throttle.retry_after(account, address)
    if wait is not None:
        logger.warning("login refused for %r from %s: too many failed logins, retry after %d s", account, address, wait)
        raise ProblemError(
            429,
            "Te veel inlogpogingen",
            f"Er is te vaak geprobeerd in te loggen met dit account of vanaf dit adres. Probeer het over {wait} "
            "seconden opnieuw.",
            headers={"Retry-After": str(wait)},
        )
    with Session(_engine(request), expire_on_commit=False) as session:
        user = authenticate(session, username, password)
        generation = token_generation(session, user.username) if user is not None else 0
    if user is None or not user.actief:
        throttle.failed(account, address)
        # Never the password; the username as typed (repr: no forged log lines), the reason for the operator.
        logger.warning(
            "failed login for %r from %s (%s)", account, address, "deactivated account" if user else "wrong password"
        )
        raise _unauthorized(
            "Onbekende gebruikersnaam of onjuist wachtwoord; controleer beide en probeer het opnieuw.",
            error=None,
            title=_LOGIN_FAILED,
        )
    throttle.succeeded(account)
    logger.info("login %s (%s) from %s", user.username, user.rol, address)
    return user, generation


@router.post(
    TOKEN_URL,
    response_model=Token,
    responses={
        401: _problem_response("Onbekende gebruikersnaam, onjuist wachtwoord of gedeactiveerd account (één tekst)"),
        429: _problem_response(
            "Te veel mislukte inlogpogingen voor dit account of vanaf dit adres; Retry-After zegt na hoeveel seconden"
        ),
    },
)
def issue_token(request: Request, response: Response, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Inloggen met gebruikersnaam en wachtwoord (OAuth2 password flow); geeft een access token."""
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: tokens are never cached
    settings = _settings(request)
    user, generation = check_login(request, form.username, form.password)
    token = create_access_token(settings, user, generation=generation)
    return Token(access_token=token, expires_in=settings.auth.token_minutes * 60)


def current_user(request: Request, token: Annotated[str | None, Depends(_oauth2)]) -> User:
    """The logged-in, active user of this request, read from the database.

    Raises:
        AuthError: 401 for a missing, unreadable, altered, expired or revoked token, or for a user that
            no longer exists or is deactivated.
    """
    if not token:
        raise _unauthorized(
            "Deze aanvraag vraagt een access token. Log in via POST /api/v1/token en stuur het token mee "
            "als 'Authorization: Bearer <token>'.",
            error=None,
        )
    user, _claims = user_for_token(_settings(request), _engine(request), token)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def log_out(engine: Engine, username: str) -> None:
    """End every token of ``username`` (API and web UI alike)."""
    with Session(engine) as session:
        revoke_tokens(session, username)
        session.commit()
    logger.info("logout %s: earlier tokens revoked", username)


@router.post(
    TOKEN_URL + "/intrekken",
    status_code=204,
    responses={401: _problem_response("Niet ingelogd, of het token is al ongeldig")},
)
def revoke_token(request: Request, user: CurrentUser) -> Response:
    """Uitloggen: trekt alle access tokens van dit account in, op elk apparaat; log daarna opnieuw in."""
    log_out(_engine(request), user.username)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _role_text(roles: tuple[Rol, ...]) -> str:
    names = [role.value for role in roles]
    if len(names) == 1:
        return f"de rol {names[0]}"
    return "een van de rollen " + ", ".join(names[:-1]) + " of " + names[-1]


def require(*roles: Rol) -> Callable[[User], User]:
    """A dependency that admits only users with one of ``roles`` (and returns the user).

    A beheerder is not admitted to everything: list every role a route is meant for.

    Args:
        *roles: The roles that may use the route; at least one.

    Returns:
        A FastAPI dependency: ``Depends(require(Rol.BEHEERDER))``.

    Raises:
        ValueError: When no role is given (a programming error, at import of the routes).
    """
    if not roles:
        raise ValueError("require() needs at least one role")
    allowed = tuple(Rol(role) for role in roles)
    needed = _role_text(allowed)

    def dependency(user: CurrentUser) -> User:
        if user.rol not in allowed:
            raise AuthError(
                403,
                "Geen toegang",
                f"Hiervoor is {needed} nodig; u bent ingelogd als {Rol(user.rol).value}.",
                {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        return user

    return dependency


def install(app: FastAPI, settings: Settings | None = None) -> None:
    """Register the problem+json handler for :class:`ProblemError` (and so :class:`AuthError`) on ``app``.

    Args:
        app: The FastAPI app.
        settings: When given: the login throttle is made, and in production the keys are checked
            (and made on first start) now, so that a production service with a bad key refuses to start.

    Raises:
        InvalidInputError: In production, for a key :func:`signing_key` or :func:`pseudonym_key` refuses.
    """
    if settings is not None:
        app.state.login_throttle = LoginThrottle.from_settings(settings)
        if settings.environment == "production":  # in development the keys are made on first need
            signing_key(settings)
            pseudonym_key(settings)

    @app.exception_handler(ProblemError)
    async def problem_error(_request: Request, error: ProblemError) -> JSONResponse:
        return error.response()


def pseudonym(settings: Settings, vacancy: str, klantnummer: str) -> str:
    """A stable pseudonym for one client *within one vacancy's list*: lists cannot be joined on it.

    Keyed with :func:`pseudonym_key`, never the token key: whoever can sign tokens cannot reverse it.
    """
    digest = hmac.new(pseudonym_key(settings).encode(), f"{vacancy}|{klantnummer}".encode(), hashlib.sha256)
    return f"P-{digest.hexdigest()[:12]}"
