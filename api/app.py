"""A minimal FastAPI app: health, the two searches and the ranker reload. Roles, audit and workflow come next."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from matching.errors import NotFoundError, WerkmatchError, dutch_message, field_path
from matching.matcher import Matcher
from matching.settings import Settings
from training import registry

logger = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class CandidateSearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    top: int = Field(20, ge=1, le=500)


class VacancySearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer")
    top: int = Field(20, ge=1, le=500)


def get_matcher(request: Request) -> Matcher:
    return request.app.state.matcher


MatcherDep = Annotated[Matcher, Depends(get_matcher)]


def watch_champion(settings: Settings, matcher: Matcher, stop: threading.Event) -> None:
    """Reload when the champion alias has moved; checks every ``ranker.poll_seconds``."""
    while not stop.wait(settings.ranker.poll_seconds):
        try:
            info = registry.by_alias(settings, registry.CHAMPION)
        except Exception as error:  # noqa: BLE001 - a broken store must not kill the watcher
            matcher.ranker_failed(f"het modelregister is niet leesbaar: {error}")
            continue
        serving = matcher.ranker
        serving_version = (
            serving.version if serving is not None and serving.name == settings.ranker.registered_model else None
        )
        if (info.version if info else None) != serving_version:
            registry.serve_champion(settings, matcher)


def create_app(settings: Settings, matcher: Matcher | None = None) -> FastAPI:
    """The app; the matcher (model and indexes) is built and synced in ``lifespan``, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.matcher = matcher or Matcher(settings)
        if not app.state.matcher.prepared:
            app.state.matcher.sync(background=True)
        registry.serve_champion(settings, app.state.matcher)
        stop = threading.Event()
        if settings.ranker.poll_seconds > 0:
            threading.Thread(
                target=watch_champion, args=(settings, app.state.matcher, stop), name="champion-watch", daemon=True
            ).start()
        yield
        stop.set()
        app.state.matcher.close()

    app = FastAPI(
        title="werkmatch",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redirect_slashes=False,
    )

    @app.middleware("http")
    async def api_version(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["API-Version"] = "0.1.0"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {"name": field_path(tuple(e["loc"][1:])), "reason": dutch_message({**e, "loc": ()})}  # type: ignore[typeddict-item]
            for e in error.errors()
        ]
        return problem(400, "Ongeldige invoer", "Een of meer velden zijn ongeldig.", invalidParams=fields)

    @app.exception_handler(WerkmatchError)
    async def domain_error(_request: Request, error: WerkmatchError) -> JSONResponse:
        if isinstance(error, NotFoundError):
            return problem(404, "Niet gevonden", str(error))
        return problem(400, "Ongeldige invoer", str(error))

    @app.get("/api/v1/health")
    def health(matcher: MatcherDep) -> dict[str, Any]:
        return {"status": "ok", "index": matcher.status()}

    @app.post("/api/v1/modellen/herladen")
    def reload_ranker(matcher: MatcherDep) -> dict[str, Any]:
        """Het champion-model opnieuw laden uit het register (na werkmatch promote); zegt welk model rangschikt."""
        return registry.serve_champion(settings, matcher)

    @app.post("/api/v1/matches/kandidaten")
    def candidates(search: CandidateSearch, matcher: MatcherDep) -> dict[str, Any]:
        """Kandidaten voor een vacature (advies aan de consulent, geen besluit)."""
        return matcher.candidates(search.vacature_id, search.top)

    @app.post("/api/v1/matches/vacatures")
    def vacancies(search: VacancySearch, matcher: MatcherDep) -> dict[str, Any]:
        """Passende vacatures voor een klant (opties bij intake)."""
        return matcher.vacancies_for(search.klant_id, search.top)

    return app
