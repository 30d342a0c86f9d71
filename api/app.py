"""The FastAPI app: :func:`create_app` puts the routers, the web UI, the error handlers and the ops together.

Where things live: the routes in :mod:`api.routes` (one module per resource), the login in
:mod:`api.security`, the role sets in :mod:`api.deps`, problem+json in :mod:`api.problems`, the
start and end of the service (matcher, tables, champion watcher) in :mod:`api.lifespan`, metrics,
limits and the access log in :mod:`api.ops`, the pages in :mod:`api.web`.

Who may search what, and what each role sees of a list: :mod:`api.services.matches`.
"""

from __future__ import annotations

from fastapi import FastAPI

from api import lifespan, openapi_doc, ops, problems, security
from api.routes import ROUTERS
from api.web import site
from matching.matcher import Matcher
from matching.settings import Settings, load_settings


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``werkmatch serve --workers N`` (uvicorn calls this factory)."""
    return create_app(load_settings())


def create_app(settings: Settings, matcher: Matcher | None = None) -> FastAPI:
    """The app; the matcher (model and indexes) is built and synced in its lifespan, not here (:mod:`api.lifespan`)."""
    app = FastAPI(
        title="werkmatch",
        description="Kandidaten en vacatures matchen voor Werk & Inkomen. Elke match is advies, geen besluit.",
        version=openapi_doc.API_VERSION,
        lifespan=lifespan.lifespan(settings, matcher),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redirect_slashes=False,
    )
    app.state.settings = settings
    security.install(app, settings)  # refuses to build in production without a real signing key
    for router in ROUTERS:
        app.include_router(router)
    problems.install(app, web_page=site.error_page)  # outside /api/: a Dutch page, never JSON
    site.install(app, settings)
    ops.install(app, settings)
    openapi_doc.install(app)
    return app
