"""The login of the API over HTTP: OAuth2 password flow, the bearer token of each request, role checks.

``POST /api/v1/token`` (form fields ``username``, ``password``) answers
``{"access_token", "token_type": "bearer", "expires_in"}``; ``POST /api/v1/token/intrekken`` logs out
(every token of the account, on every device). The tokens themselves, their keys and their checks
are :mod:`api.services.tokens`; the logins are throttled per account and per address
(:mod:`api.services.login_throttle`: 429 with ``Retry-After``). A wrong password, an unknown and a
deactivated account get the same answer (no account oracle); failed logins are logged at WARNING
(username and address, never the password).

The app wires it up with::

    security.install(app, settings)      # the login throttle; refuses a demo key in production
    problems.install(app)                # 401 for NotAuthenticated, 403 for ProblemError
    app.include_router(security.router)
    app.state.settings, app.state.engine = settings, engine

    @app.get("/api/v1/...")
    def route(user: CurrentUser): ...                                      # any logged-in user
    @app.post("/api/v1/...")
    def route(user: Annotated[User, Depends(require(Rol.BEHEERDER))]): ...   # beheerder only

(:mod:`api.deps` names each role set once.) A missing or refused token raises
:class:`api.services.tokens.NotAuthenticated` (401 with ``WWW-Authenticate: Bearer``); another role a
:class:`api.problems.ProblemError` 403 that names the role needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import problems
from api.problems import ProblemError
from api.services import tokens
from api.services.login_throttle import LoginThrottle
from api.services.tokens import NotAuthenticated
from api.services.users import Rol, User, authenticate, normalize_username, token_generation
from matching import tenancy
from matching.settings import Settings

logger = logging.getLogger(__name__)

TOKEN_URL = "/api/v1/token"


class Token(BaseModel):
    """The OAuth2 token response (RFC 6749 §5.1; snake_case as the RFC prescribes)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _engine(request: Request) -> Engine:
    return request.app.state.engine


router = APIRouter(tags=["inloggen"])

_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


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
        NotAuthenticated: One text for a wrong password, an unknown and a deactivated account.
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
        user = authenticate(session, username, password, _settings(request).auth)
        generation = token_generation(session, user.username) if user is not None else 0
    if user is None or not user.actief:
        throttle.failed(account, address)
        # Never the password; the username as typed (repr: no forged log lines), the reason for the operator.
        logger.warning(
            "failed login for %r from %s (%s)", account, address, "deactivated account" if user else "wrong password"
        )
        raise NotAuthenticated(
            "Onbekende gebruikersnaam of onjuist wachtwoord; controleer beide en probeer het opnieuw.",
            code=None,
            title="Inloggen mislukt",
        )
    throttle.succeeded(account)
    logger.info("login %s (%s) from %s", user.username, user.rol, address)
    return user, generation


@router.post(
    TOKEN_URL,
    response_model=Token,
    responses=problems.documented(
        _401="Onbekende gebruikersnaam, onjuist wachtwoord of gedeactiveerd account (één tekst)",
        _429="Te veel mislukte inlogpogingen voor dit account of vanaf dit adres; Retry-After zegt na hoeveel seconden",
    ),
)
def issue_token(request: Request, response: Response, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Inloggen met gebruikersnaam en wachtwoord (OAuth2 password flow); geeft een access token."""
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: tokens are never cached
    settings = _settings(request)
    user, generation = check_login(request, form.username, form.password)
    token = tokens.create_access_token(settings, user, generation=generation)
    return Token(access_token=token, expires_in=settings.auth.token_minutes * 60)


def current_user(request: Request, token: Annotated[str | None, Depends(_oauth2)]) -> User:
    """The logged-in, active user of this request, read from the database.

    Raises:
        NotAuthenticated: For a missing, unreadable, altered, expired or revoked token, or for a user
            that no longer exists or is deactivated.
    """
    if not token:
        raise NotAuthenticated(
            "Deze aanvraag vraagt een access token. Log in via POST /api/v1/token en stuur het token mee "
            "als 'Authorization: Bearer <token>'.",
            code=None,
        )
    user, claims = tokens.user_for_token(_settings(request), _engine(request), token)
    request.state.token_claims = claims  # who minted it (the CLI marks its own): api.routes.matches audits it
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def gemeente_scope(user: CurrentUser) -> None:
    """Limit the request's database transactions to the user's gemeente (:mod:`matching.tenancy`).

    Async on purpose: it runs in the request's own context, which the route (also in a worker
    thread) inherits. A regional user (accountmanager, data scientist) keeps the regional scope.
    """
    tenancy.enter(user.gemeente)


@router.post(
    TOKEN_URL + "/intrekken",
    status_code=204,
    responses=problems.documented(_401="Niet ingelogd, of het token is al ongeldig"),
)
def revoke_token(request: Request, user: CurrentUser) -> Response:
    """Uitloggen: trekt alle access tokens van dit account in, op elk apparaat; log daarna opnieuw in."""
    tokens.log_out(_engine(request), user.username)
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
            raise ProblemError(
                403,
                "Geen toegang",
                f"Hiervoor is {needed} nodig; u bent ingelogd als {Rol(user.rol).value}.",
                {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        return user

    return dependency


def install(app: FastAPI, settings: Settings) -> None:
    """Make the login throttle of ``app``; in production, check (and on first start make) the keys now.

    Raises:
        InvalidInputError: In production, for a key :func:`api.services.tokens.check_keys` refuses: a
            production service with a bad key refuses to start (in development the keys are made on
            first need).
    """
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    if settings.environment == "production":
        tokens.check_keys(settings)
