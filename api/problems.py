"""Errors at the edge: every refusal of the API is RFC 9457 ``application/problem+json``, in Dutch.

* A route raises :class:`ProblemError` (status, title, detail, extra members) or lets a domain error
  of :mod:`matching.errors` through; :func:`install` registers the handlers that turn those, FastAPI's
  validation errors, Starlette's own answers (unknown path, wrong method) and a refused login or token
  (:class:`api.services.tokens.NotAuthenticated`: 401 with ``WWW-Authenticate``) into problem+json.
* :func:`documented` lists a route's error responses for the OpenAPI document
  (``responses=problems.documented(401, 403, _409="Het item is al afgehandeld")``);
  :mod:`api.openapi_doc` gives each the ``Probleem`` schema.
* A method a path does not serve is 405 with an ``Allow`` header that names every method of the most
  literal matching route (:func:`allowed_methods`), also where Starlette would have read the path as
  a template (``GET /voorstellen/zoeken`` is not a read of voorstel "zoeken": :mod:`api.ops` answers
  those before the routes run).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.services.tokens import NotAuthenticated
from matching.errors import ConflictError, NotFoundError, WerkmatchError, dutch_message, field_path, printable

logger = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# The usual text of each error status in the OpenAPI document; a route gives its own with ``_409="…"``.
TEXTS = {
    400: "Ongeldige invoer",
    401: "Niet ingelogd of token ongeldig",
    403: "Deze rol mag dit niet",
    404: "Bestaat niet (of hoort bij de caseload van een andere consulent)",
}
_HTTP_TITLES = {400: "Ongeldige invoer", 404: "Niet gevonden", 413: "Aanvraag te groot"}
# The problem object as the OpenAPI document describes it (``Probleem``, :mod:`api.openapi_doc`).
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "Foutmelding volgens RFC 9457 (problem details), met Nederlandse titel en toelichting.",
    "required": ["status", "title", "detail"],
    "properties": {
        "type": {"type": "string", "default": "about:blank"},
        "title": {"type": "string", "description": "korte omschrijving van het soort fout"},
        "status": {"type": "integer", "description": "de HTTP-statuscode"},
        "detail": {"type": "string", "description": "wat er precies mis is en wat te doen"},
        "instance": {"type": "string"},
        "invalidParams": {
            "type": "array",
            "description": "per ongeldig veld de naam en de reden",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


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


def finite(value: Any) -> Any:
    """A deep copy with NaN and infinities as None: JSON has no such numbers (metrics of empty groups)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def documented(*statuses: int, texts: Mapping[int, str] | None = None, **own: str) -> dict[int | str, dict[str, Any]]:
    """A route's error responses for the OpenAPI document; :mod:`api.openapi_doc` makes them problem+json.

    Args:
        *statuses: Statuses with their usual text: from ``texts``, else :data:`TEXTS`.
        texts: The texts of a group of routes, by status (the resources' 403 also names the consulentcode).
        **own: Statuses with a text of this route's own, written ``_403="Alleen voor een beheerder"``.

    Returns:
        ``{status: {"description": text}}`` for ``responses=`` of a route or router.
    """
    known = {**TEXTS, **(texts or {})}
    responses: dict[int | str, dict[str, Any]] = {status: {"description": known[status]} for status in statuses}
    responses.update({int(status.lstrip("_")): {"description": text} for status, text in own.items()})
    return responses


def unauthorized(error: NotAuthenticated) -> JSONResponse:
    """401 with the RFC 6750 challenge (no error code when the request carried no token at all); never cached."""
    challenge = f'Bearer error="{error.code}"' if error.code else "Bearer"
    return ProblemError(401, error.title, error.detail, {"WWW-Authenticate": challenge}).response()


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves on ``path``: the ``Allow`` header of a 405 (RFC 9110 §15.5.6).

    Starlette names only the methods of the first route whose path matches, so ``DELETE
    /api/v1/klanten/import`` said ``Allow: GET`` (of ``/klanten/{klantnummer}``) instead of ``POST``.
    Here the routes of the most literal matching template count (the fewest parameters).
    """
    operations = getattr(app.state, "ops", None)  # api.ops keeps the route table, built once, not per request
    by_template: dict[str, set[str]] = {}
    for pattern, route_methods, template in operations.table() if operations is not None else []:
        if route_methods and pattern.match(path):
            by_template.setdefault(template, set()).update(route_methods)
    if not by_template:
        return []
    # A literal path beats a template (OpenAPI's rule): /klanten/zoeken is not /klanten/{klantnummer}
    fewest = min(template.count("{") for template in by_template)
    return sorted(set().union(*(m for t, m in by_template.items() if t.count("{") == fewest)))


def method_not_allowed(method: str, allowed: list[str]) -> JSONResponse:
    """405 problem+json with the ``Allow`` header."""
    listed = ", ".join(allowed)
    return problem(405, "Methode niet toegestaan", f"{method} kan hier niet; wel: {listed}.", headers={"Allow": listed})


def invalid_input(error: RequestValidationError) -> JSONResponse:
    """400 with every invalid field (``invalidParams``), in Dutch."""
    fields = [
        {"name": field_path(tuple(e["loc"][1:])), "reason": dutch_message({**e, "loc": ()})}  # type: ignore[typeddict-item]
        for e in error.errors()
    ]
    return problem(400, "Ongeldige invoer", "Een of meer velden zijn ongeldig.", invalidParams=fields)


def domain_problem(error: WerkmatchError) -> JSONResponse:
    """A domain error: 404 unknown, 409 against the current state, otherwise 400."""
    if isinstance(error, NotFoundError):
        return problem(404, "Niet gevonden", str(error))
    if isinstance(error, ConflictError):
        return problem(409, "Conflict met de huidige stand", str(error))
    return problem(400, "Ongeldige invoer", str(error))


def database_gone(error: DBAPIError) -> JSONResponse:
    """503 for a database connection that broke or could not be made; the pool replaces it for the next request."""
    logger.warning("database connection lost during a request: %s", type(getattr(error, "orig", error)).__name__)
    return problem(
        503,
        "Database even niet bereikbaar",
        "De verbinding met de database viel weg; er is niets opgeslagen. Probeer het over enkele seconden opnieuw.",
        headers={"Retry-After": "5"},
    )


def _http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """Starlette's own answers (unknown path, unreadable body) as Dutch problem+json."""
    if error.status_code == 405:
        return method_not_allowed(request.method, allowed_methods(request.app, request.url.path))
    if error.status_code == 404:
        detail = f"Er is geen route {request.url.path}; zie /api/v1/docs voor wat er is."
    elif error.status_code == 400:  # a body Starlette cannot parse (broken multipart, say)
        detail = (
            "De inhoud van de aanvraag is onleesbaar; stuur JSON, of voor een import een multipart-formulier "
            "met het bestand in het veld 'bestand'."
        )
    else:
        detail = f"De aanvraag is niet verwerkt (HTTP {error.status_code})."
    title = _HTTP_TITLES.get(error.status_code, "Aanvraag niet verwerkt")
    return problem(error.status_code, title, detail, headers=dict(error.headers or {}))


def answer(request: Request, response: JSONResponse) -> Response:
    """``response`` as it goes out: problem+json under ``/api/``, elsewhere the web's Dutch page (:func:`install`)."""
    web_page = getattr(request.app.state, "web_page", None)
    if web_page is not None and not request.url.path.startswith("/api/"):
        return web_page(request, response)
    return response


def install(app: FastAPI, web_page: Callable[[Request, JSONResponse], Response] | None = None) -> None:
    """Register the problem+json handlers on ``app``.

    Args:
        app: The app.
        web_page: For a path outside ``/api/`` (a person in a browser): turns the problem this module
            would answer into the web UI's Dutch page, so a page never shows JSON (405 and 500
            included). Without it, problem+json there too.
    """

    app.state.web_page = web_page  # for answers given before the routes run (api.ops: early 405s)

    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return answer(request, _http_problem(request, error))

    async def problem_error(request: Request, error: ProblemError) -> Response:
        return answer(request, error.response())

    async def not_authenticated(request: Request, error: NotAuthenticated) -> Response:
        return answer(request, unauthorized(error))

    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return answer(request, invalid_input(error))

    async def domain_error(request: Request, error: WerkmatchError) -> Response:
        return answer(request, domain_problem(error))

    async def server_error(request: Request, _error: Exception) -> Response:
        # Starlette's ServerErrorMiddleware calls this and re-raises, so the traceback is still logged.
        detail = "Er ging aan onze kant iets mis; probeer het later opnieuw. Het is gemeld in het log."
        return answer(request, problem(500, "Interne fout", detail, headers={"Cache-Control": "no-store"}))

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemError, problem_error)  # type: ignore[arg-type]
    app.add_exception_handler(NotAuthenticated, not_authenticated)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(WerkmatchError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, server_error)

    async def connection_lost(request: Request, error: DBAPIError) -> Response:
        if isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated:
            return answer(request, database_gone(error))
        raise error  # anything else is a bug: server_error's 500, logged with its traceback

    app.add_exception_handler(DBAPIError, connection_lost)  # type: ignore[arg-type]
