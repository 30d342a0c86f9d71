"""Access tokens and the login of the API: OAuth2 password flow, HS256 JWTs, role checks.

``POST /api/v1/token`` (form fields ``username``, ``password``) answers
``{"access_token", "token_type": "bearer", "expires_in"}``. The token carries ``sub`` (the username),
``rol``, ``iat``, ``exp`` and a ``jti``; it is signed with :func:`signing_key`. Every request reads the
user from the database again, so deactivating an account or changing a role takes effect at once;
the ``rol`` claim is information for the client, never what the API checks.

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

import functools
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

from api.users import Rol, User, authenticate, get_user
from matching.errors import InvalidInputError
from matching.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
TOKEN_URL = "/api/v1/token"
# Publicly known: fine for a laptop, refused in production (see signing_key).
DEMO_SIGNING_KEY = "werkmatch-demo-sleutel-alleen-voor-ontwikkeling"
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


@functools.cache
def _warn_demo_key() -> None:
    """Said once per process, not on every request."""
    logger.warning("no WERKMATCH_AUTH__SECRET_KEY: tokens are signed with the public demo key")


def signing_key(settings: Settings) -> str:
    """The HS256 key for access tokens.

    Args:
        settings: ``auth.secret_key`` and ``environment``.

    Returns:
        ``auth.secret_key``; in development an empty secret means :data:`DEMO_SIGNING_KEY`.

    Raises:
        InvalidInputError: In production, in Dutch, when the secret is empty, the demo key or shorter
            than 32 characters: the service then refuses to start.
    """
    secret = settings.auth.secret_key
    if settings.environment != "production":
        if not secret:
            _warn_demo_key()
        return secret or DEMO_SIGNING_KEY
    if not secret or secret == DEMO_SIGNING_KEY:
        raise InvalidInputError(
            "in productie is een eigen geheime sleutel voor tokens nodig; stel WERKMATCH_AUTH__SECRET_KEY in "
            "op een willekeurige tekst van minstens 32 tekens, bijv. met: openssl rand -hex 32"
        )
    if len(secret) < MIN_KEY_LENGTH:
        raise InvalidInputError(
            f"WERKMATCH_AUTH__SECRET_KEY is te kort ({len(secret)} tekens); stel een sleutel van minstens "
            f"{MIN_KEY_LENGTH} tekens in, bijv. met: openssl rand -hex 32"
        )
    return secret


def create_access_token(settings: Settings, user: User, now: datetime | None = None) -> str:
    """A signed access token for ``user``, valid ``auth.token_minutes`` from ``now``.

    Args:
        settings: The signing key and the lifetime.
        user: Becomes ``sub`` (username) and ``rol``.
        now: The issue time (tests pass one in the past); default: the current time.

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
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a valid token.

    Args:
        settings: The signing key.
        token: The encoded JWT from the ``Authorization`` header.

    Returns:
        The claims; ``sub``, ``rol``, ``iat``, ``exp`` and ``jti`` are present.

    Raises:
        AuthError: 401, with a Dutch detail that says whether the token expired, was altered or is
            not a token of this service.
    """
    try:
        return jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "rol", "iat", "exp", "jti"]},
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
    except jwt.DecodeError:
        raise _unauthorized(
            "Het token is onleesbaar: geen geldig JWT. Stuur het access_token uit POST /api/v1/token mee "
            "als 'Authorization: Bearer <token>'."
        ) from None
    except jwt.InvalidTokenError as error:
        logger.info("token refused: %s", error)
        raise _unauthorized("Het token is ongeldig; log opnieuw in.") from None


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _engine(request: Request) -> Engine:
    return request.app.state.engine


router = APIRouter(tags=["inloggen"])

_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response documented as problem+json only (``model=`` would add application/json)."""
    return {"description": description, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}


@router.post(
    TOKEN_URL,
    response_model=Token,
    responses={401: _problem_response("Onbekende gebruikersnaam, onjuist wachtwoord of gedeactiveerd account")},
)
def issue_token(request: Request, response: Response, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Inloggen met gebruikersnaam en wachtwoord (OAuth2 password flow); geeft een access token."""
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: tokens are never cached
    settings = _settings(request)
    with Session(_engine(request), expire_on_commit=False) as session:
        user = authenticate(session, form.username, form.password)
    if user is None:
        logger.info("failed login for %r", form.username[:64])
        raise _unauthorized(
            "Onbekende gebruikersnaam of onjuist wachtwoord; controleer beide en probeer het opnieuw.",
            error=None,
            title=_LOGIN_FAILED,
        )
    if not user.actief:
        raise _unauthorized(
            f"Het account '{user.username}' is gedeactiveerd; neem contact op met een beheerder.",
            error=None,
            title=_LOGIN_FAILED,
        )
    logger.info("login %s (%s)", user.username, user.rol)
    return Token(access_token=create_access_token(settings, user), expires_in=settings.auth.token_minutes * 60)


def current_user(request: Request, token: Annotated[str | None, Depends(_oauth2)]) -> User:
    """The logged-in, active user of this request, read from the database.

    Raises:
        AuthError: 401 for a missing, unreadable, altered or expired token, or for a user that no
            longer exists or is deactivated.
    """
    if not token:
        raise _unauthorized(
            "Deze aanvraag vraagt een access token. Log in via POST /api/v1/token en stuur het token mee "
            "als 'Authorization: Bearer <token>'.",
            error=None,
        )
    claims = decode_access_token(_settings(request), token)
    with Session(_engine(request), expire_on_commit=False) as session:
        user = get_user(session, str(claims["sub"]))
    if user is None:
        raise _unauthorized(f"De gebruiker '{claims['sub']}' van dit token bestaat niet (meer).")
    if not user.actief:
        raise _unauthorized(f"Het account '{user.username}' is gedeactiveerd; neem contact op met een beheerder.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


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
        settings: When given, checked now with :func:`signing_key`, so that a production service
            without its own secret refuses to start.

    Raises:
        InvalidInputError: In production without a proper ``WERKMATCH_AUTH__SECRET_KEY``.
    """
    if settings is not None:
        signing_key(settings)

    @app.exception_handler(ProblemError)
    async def problem_error(_request: Request, error: ProblemError) -> JSONResponse:
        return error.response()


def pseudonym(settings: Settings, vacancy: str, klantnummer: str) -> str:
    """A stable pseudonym for one client *within one vacancy's list*: lists cannot be joined on it."""
    digest = hmac.new(signing_key(settings).encode(), f"{vacancy}|{klantnummer}".encode(), hashlib.sha256)
    return f"P-{digest.hexdigest()[:12]}"
