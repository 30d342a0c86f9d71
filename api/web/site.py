"""The web UI in the app: :func:`install` adds the pages, the static files and the handlers that turn
a missing session into the login page and a refusal into a Dutch page (never JSON).

``api.app.create_app`` passes :func:`error_page` to :func:`api.problems.install`: every error the API
answers as problem+json (404, 405, 400, a domain refusal, 500) is that Dutch page outside ``/api/``.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from api.problems import allowed_methods
from api.web import actions, beheer, caseload, models, pages, pushes, session, toezicht
from api.web.common import HERE, render
from api.web.session import CsrfError, Forbidden, LoginRequired, WebSession, current_session
from matching.settings import Settings


def _session_or_none(request: Request) -> WebSession | None:
    try:
        return current_session(request)
    except LoginRequired:
        return None


def _page_above(request: Request) -> str:
    """The nearest page above ``request``'s path that a browser can open (GET): where a form's address leads back."""
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        path = "/".join(parts) or "/"
        if "GET" in allowed_methods(request.app, path):
            return path
    return "/"


def error_page(request: Request, problem: JSONResponse) -> HTMLResponse:
    """The Dutch page for what the API would answer as ``problem`` (problem+json): a page never shows JSON.

    The status and the ``Allow`` and ``Retry-After`` headers stay; the text is the problem's own title and detail,
    except for 404 (the same words for unknown and for another consulent's), 405 (the address of a form,
    opened or reloaded: a link to its page) and 500 (no internals).
    """
    body = json.loads(bytes(problem.body))
    status = problem.status_code
    detail, title = str(body.get("detail", "")), body.get("title") or "Niet gelukt"
    context: dict[str, object] = {"titel": title, "detail": detail[:1].upper() + detail[1:]}
    if status in (401, 403):
        context["titel"] = "Geen toegang"
    elif status == 404:
        context = {"titel": "Niet gevonden"}
    elif status == 405:
        context = {"titel": "Deze pagina opent zo niet", "formulier": _page_above(request)}
    elif status >= 500:
        context["titel"] = "Er ging iets mis"
    web = None if status >= 500 else _session_or_none(request)  # a 500 may be the database: do not ask it again
    page = render(request, web, "fout.html", status, **context)
    for name in ("Allow", "Retry-After"):
        if name in problem.headers:
            page.headers[name] = problem.headers[name]
    return page


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the UI on ``app``: pages at ``/``, static files at ``/static``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    routers = (pages, actions, caseload, pushes, models, beheer, toezicht)
    for router in (module.router for module in routers):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> Response:
        return await session.back_after_login(request, error)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> HTMLResponse:
        return render(request, _session_or_none(request), "fout.html", 403, titel="Geen toegang", needed=error.needed)

    @app.exception_handler(CsrfError)
    async def csrf_refused(request: Request, _error: CsrfError) -> HTMLResponse:
        return render(request, _session_or_none(request), "fout.html", 403, titel="Formulier verlopen", csrf_error=True)
