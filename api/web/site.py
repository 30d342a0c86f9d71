"""The web UI in the app: :func:`install` adds the pages, the static files and the handlers that turn
a missing session into the login page and a refusal into a Dutch page (never JSON).

``api.app.create_app`` calls it after :func:`api.problems.install`, so that on a page these handlers
answer instead of the API's problem+json ones.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.problems import ProblemError
from api.problems import problem as problem_response  # 'problem' names a handler below
from api.web import actions, beheer, caseload, models, pages, toezicht
from api.web.common import HERE, error_text, render
from api.web.session import CsrfError, Forbidden, LoginRequired, WebSession, current_session
from matching.errors import NotFoundError
from matching.settings import Settings


def _session_or_none(request: Request) -> WebSession | None:
    try:
        return current_session(request)
    except LoginRequired:
        return None


def _is_web(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def not_found_page(request: Request) -> HTMLResponse:
    """The Dutch 'niet gevonden' page for a path that is no page at all."""
    return render(request, _session_or_none(request), "fout.html", 404, titel="Niet gevonden")


def install(app: FastAPI, settings: Settings) -> None:  # noqa: ARG001 - same shape as the other installers
    """Mount the UI on ``app``: pages at ``/``, static files at ``/static``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (pages.router, actions.router, caseload.router, models.router, beheer.router, toezicht.router):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def login_required(_request: Request, error: LoginRequired) -> Response:
        query = {"volgende": error.next_path}
        if error.reason:
            query["melding"] = "verlopen"
        return RedirectResponse(f"/inloggen?{urlencode(query)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> HTMLResponse:
        return render(request, _session_or_none(request), "fout.html", 403, titel="Geen toegang", needed=error.needed)

    @app.exception_handler(CsrfError)
    async def csrf_refused(request: Request, _error: CsrfError) -> HTMLResponse:
        return render(request, _session_or_none(request), "fout.html", 403, titel="Formulier verlopen", csrf_error=True)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, error: NotFoundError) -> Response:
        """On a page: the Dutch 'niet gevonden' page, the same for unknown and for another consulent's."""
        if _is_web(request):
            return render(request, _session_or_none(request), "fout.html", 404, titel="Niet gevonden")
        return problem_response(404, "Niet gevonden", str(error))  # the API's own answer, as its handler gives

    @app.exception_handler(ProblemError)
    async def problem(request: Request, error: ProblemError) -> Response:
        if _is_web(request):
            titel = "Geen toegang" if error.status in (401, 403) else "Niet gelukt"
            return render(
                request, _session_or_none(request), "fout.html", error.status, titel=titel, detail=error_text(error)
            )
        return error.response()
