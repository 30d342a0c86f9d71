"""A minimal FastAPI app: health and the two searches. The full API (roles, audit, workflow) is its own issue."""

from __future__ import annotations

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


def create_app(settings: Settings, matcher: Matcher | None = None) -> FastAPI:
    """The app; the matcher (model and indexes) is built and synced in ``lifespan``, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.matcher = matcher or Matcher(settings)
        if not app.state.matcher.prepared:
            app.state.matcher.sync(background=True)
        yield
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

    @app.post("/api/v1/matches/kandidaten")
    def candidates(search: CandidateSearch, matcher: MatcherDep) -> dict[str, Any]:
        """Kandidaten voor een vacature (advies aan de consulent, geen besluit)."""
        return matcher.candidates(search.vacature_id, search.top)

    @app.post("/api/v1/matches/vacatures")
    def vacancies(search: VacancySearch, matcher: MatcherDep) -> dict[str, Any]:
        """Passende vacatures voor een klant (opties bij intake)."""
        return matcher.vacancies_for(search.klant_id, search.top)

    return app
